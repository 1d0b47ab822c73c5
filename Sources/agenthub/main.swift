print("agenthub")
