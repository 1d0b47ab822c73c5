import Plugins
import Testing

/// The restart schedule is a value: tests tell it how long a server ran, no clock, no sleeping.
@Suite struct RestartScheduleTests {
    func settings() -> RestartSchedule.Settings {
        var s = RestartSchedule.Settings()
        s.firstDelay = .seconds(1)
        s.maxDelay = .seconds(8)
        s.budget = 5
        s.stableAfter = .seconds(60)
        s.failedRetry = .seconds(300)
        return s
    }

    @Test func delaysDoubleFromOneSecondToTheCap() {
        var schedule = RestartSchedule(settings: settings())
        let delays = (0..<5).map { _ in schedule.ended(after: .seconds(1)) }
        #expect(delays == [.restart(after: .seconds(1)), .restart(after: .seconds(2)), .restart(after: .seconds(4)),
                           .restart(after: .seconds(8)), .restart(after: .seconds(8))])
    }

    @Test func pastTheBudgetTheServerIsFailedAndRetriedOnTheLongInterval() {
        var schedule = RestartSchedule(settings: settings())
        for _ in 0..<5 { _ = schedule.ended(after: .zero) }
        #expect(schedule.ended(after: .zero) == .failed(retryAfter: .seconds(300)))
        #expect(schedule.ended(after: .zero) == .failed(retryAfter: .seconds(300)))
    }

    @Test func aStableRunStartsTheCountAfresh() {
        var schedule = RestartSchedule(settings: settings())
        for _ in 0..<5 { _ = schedule.ended(after: .zero) }
        #expect(schedule.ended(after: .seconds(61)) == .restart(after: .seconds(1)))
        #expect(schedule.failures == 1)
    }
}
