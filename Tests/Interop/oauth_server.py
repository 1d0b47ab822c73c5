"""An OAuth-protected remote MCP server (the Python `mcp` SDK's own authorization server and bearer
middleware, in one process) for the bridge's OAuth tests.

usage: oauth_server.py PORT [--token-ttl SECONDS]
  The authorization server registers clients dynamically and offers revocation. Its authorize step
  sends the browser to /login?request=ID; a test acting as the browser adds `&user=NAME` and follows
  the redirect back to the client. Tokens carry that user as their subject; the `whoami` tool answers it.
  POST /admin/expire?user=NAME     makes that user's access tokens expired (a refresh is then needed)
  POST /admin/forget-refresh?user=NAME  drops that user's refresh tokens (a refresh then fails)
  GET  /admin/seen                 every bearer token the resource server was shown (to check none leaks)
It exits when its stdin closes (the test that started it is gone) or its parent dies.
"""
import secrets
import sys
import time

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import (AccessToken, AuthorizationCode, AuthorizationParams, RefreshToken,
                                      TokenError)
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.server.mcpserver import MCPServer
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse


from interop_server import die_with_parent, serve  # noqa: E402

die_with_parent()
port = int(sys.argv[1])
ttl = int(sys.argv[sys.argv.index("--token-ttl") + 1]) if "--token-ttl" in sys.argv else 3600
base = f"http://127.0.0.1:{port}"


class Provider:
    def __init__(self) -> None:
        self.clients: dict[str, OAuthClientInformationFull] = {}
        self.pending: dict[str, tuple[str, AuthorizationParams]] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, RefreshToken] = {}
        self.seen: list[str] = []

    async def get_client(self, client_id: str):
        return self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        self.clients[client_info.client_id] = client_info

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        request = secrets.token_urlsafe(16)
        self.pending[request] = (client.client_id, params)
        return f"{base}/login?request={request}"

    def issue(self, client_id: str, scopes: list[str], subject: str, resource: str | None) -> OAuthToken:
        access = "at-" + secrets.token_urlsafe(24)
        refresh = "rt-" + secrets.token_urlsafe(24)
        expires = int(time.time()) + ttl
        self.access[access] = AccessToken(token=access, client_id=client_id, scopes=scopes, expires_at=expires,
                                          resource=resource, subject=subject)
        self.refresh[refresh] = RefreshToken(token=refresh, client_id=client_id, scopes=scopes, resource=resource, subject=subject)
        return OAuthToken(access_token=access, token_type="Bearer", expires_in=ttl, refresh_token=refresh,
                          scope=" ".join(scopes) if scopes else None)

    async def load_authorization_code(self, client, authorization_code: str):
        return self.codes.get(authorization_code)

    async def exchange_authorization_code(self, client, authorization_code: AuthorizationCode) -> OAuthToken:
        self.codes.pop(authorization_code.code, None)
        return self.issue(client.client_id, authorization_code.scopes, authorization_code.subject or "nobody", authorization_code.resource)

    async def load_refresh_token(self, client, refresh_token: str):
        token = self.refresh.get(refresh_token)
        return token if token and token.client_id == client.client_id else None

    async def exchange_refresh_token(self, client, refresh_token: RefreshToken, scopes: list[str]) -> OAuthToken:
        if refresh_token.token not in self.refresh:
            raise TokenError("invalid_grant", "refresh token unknown")
        del self.refresh[refresh_token.token]  # rotated
        return self.issue(client.client_id, scopes or refresh_token.scopes, refresh_token.subject or "nobody", refresh_token.resource)

    async def load_access_token(self, token: str):
        self.seen.append(token)
        found = self.access.get(token)
        if found is None or (found.expires_at is not None and found.expires_at < time.time()):
            return None
        return found

    async def revoke_token(self, token) -> None:
        self.access.pop(token.token, None)
        self.refresh.pop(token.token, None)


provider = Provider()
server = MCPServer(
    "oauth-test",
    auth_server_provider=provider,
    auth=AuthSettings(issuer_url=base, resource_server_url=f"{base}/mcp", validate_token_resource=False,
                      client_registration_options=ClientRegistrationOptions(enabled=True, valid_scopes=["mcp"], default_scopes=["mcp"]),
                      revocation_options=RevocationOptions(enabled=True), required_scopes=[]),
)


@server.tool(description="Who the token this call carries belongs to.")
def whoami() -> str:
    token = get_access_token()
    return token.subject if token and token.subject else "anonymous"


@server.custom_route("/login", methods=["GET"])
async def login(request: Request):
    pending = provider.pending.pop(request.query_params.get("request", ""), None)
    if pending is None:
        return PlainTextResponse("unknown login request", status_code=400)
    client_id, params = pending
    user = request.query_params.get("user", "alice")
    code = "code-" + secrets.token_urlsafe(24)
    provider.codes[code] = AuthorizationCode(code=code, scopes=params.scopes or ["mcp"], expires_at=time.time() + 300,
                                             client_id=client_id, code_challenge=params.code_challenge,
                                             redirect_uri=params.redirect_uri,
                                             redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
                                             resource=params.resource, subject=user)
    separator = "&" if "?" in str(params.redirect_uri) else "?"
    return RedirectResponse(f"{params.redirect_uri}{separator}code={code}&state={params.state}", status_code=302)


@server.custom_route("/admin/expire", methods=["POST"])
async def expire(request: Request):
    user = request.query_params.get("user")
    for token in provider.access.values():
        if token.subject == user:
            token.expires_at = int(time.time()) - 1
    return PlainTextResponse("ok")


@server.custom_route("/admin/forget-refresh", methods=["POST"])
async def forget_refresh(request: Request):
    user = request.query_params.get("user")
    for key in [k for k, v in provider.refresh.items() if v.subject == user]:
        del provider.refresh[key]
    return PlainTextResponse("ok")


@server.custom_route("/admin/seen", methods=["GET"])
async def seen(request: Request):
    return JSONResponse({"tokens": provider.seen, "issued": list(provider.access.keys()) + list(provider.refresh.keys())})


serve(server.streamable_http_app(), port)
