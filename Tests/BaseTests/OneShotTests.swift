import Base
import Testing

@Suite struct OneShotTests {
    @Test func waitersGetTheValueSetOnceAndLaterSetsChangeNothing() async {
        let shot = OneShot<Int>()
        async let first = shot.wait()
        async let second = shot.wait(timeout: .seconds(60))
        try? await Task.sleep(for: .milliseconds(20))
        #expect(shot.set(1))
        #expect(!shot.set(2))
        #expect(await first == 1)
        #expect(await second == 1)
        #expect(await shot.wait() == 1)
        #expect(shot.current == 1)
    }

    @Test func aWaitEndsWithNilAtItsDeadlineOrWhenCancelled() async {
        let shot = OneShot<String>()
        #expect(await shot.wait(timeout: .milliseconds(10)) == nil)
        let waiting = Task { await shot.wait() }
        waiting.cancel()
        #expect(await waiting.value == nil)
        #expect(shot.current == nil)
    }
}
