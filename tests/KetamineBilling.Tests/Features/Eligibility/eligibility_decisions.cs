using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Eligibility;
using KetamineBilling.Features.Eligibility.X12;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using static KetamineBilling.Tests.Infrastructure.Eligibility271Builder;

namespace KetamineBilling.Tests.Features.Eligibility;

/// <summary>Visits, eligibility inquiries and answers: the decisions, without a host (issue 20).</summary>
public class eligibility_decisions
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 15, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Today = new(2026, 12, 2);
    private static readonly Guid PatientId = Guid.NewGuid();
    private static readonly Guid CoverageId = Guid.NewGuid();
    private static readonly Payer Payer = new() { Id = Guid.NewGuid(), Name = "Blue Prairie Health", PayerId = "BPH01" };

    private static PatientAccount Account(params object[] events) => Given.Aggregate<PatientAccount>(
    [
        new PatientRegistered(PatientId, "Marisol", "Quenneville", new DateOnly(1981, 3, 9), null, null, Now.AddDays(-90)),
        new CoverageRecorded(PatientId, CoverageId, Payer.Id, "QMX4410021", null, null, CoveragePriority.Primary, 40m, 20m, 1500m, Today.AddDays(-365), null, Now.AddDays(-90)),
        .. events
    ]);

    private static VisitScheduled Scheduled(DateOnly on) => new(PatientId, Guid.NewGuid(), on, "09:00", "Ketamine infusion", Now);

    private static EligibilitySummary Summary(bool? active, params string[] rejections) =>
        new(active, "SILVER PPO", null, null, 20m, 40m, "MH", null, false, [], rejections);

    private static EligibilityChecked Check(DateOnly on, bool? active, params string[] rejections) =>
        new(PatientId, CoverageId, Guid.NewGuid(), on, null, "271 BPH01/1", null, Summary(active, rejections), null, null, Now);

    [Fact]
    public void a_visit_is_scheduled_from_today_once_and_cancelled_once()
    {
        var account = Account();
        var command = new ScheduleVisit(Guid.NewGuid(), Today.AddDays(1), "09:30", "Spravato session");
        var outcome = Assert.IsType<Outcome.Accepted>(ScheduleVisitEndpoint.Decide(account, command, Today, Now));
        var scheduled = Assert.IsType<VisitScheduled>(Assert.Single(outcome.AllEvents));
        account = account.Then(scheduled);
        Assert.IsType<Outcome.Replayed>(ScheduleVisitEndpoint.Decide(account, command, Today, Now));
        Assert.Equal(409, Assert.IsType<Outcome.Rejected>(ScheduleVisitEndpoint.Decide(account, command with { Time = "10:00" }, Today, Now)).Status);
        Assert.Contains("on", Assert.IsType<Outcome.Rejected>(ScheduleVisitEndpoint.Decide(account, command with { VisitId = Guid.NewGuid(), On = Today.AddDays(-1) }, Today, Now)).Errors.Keys);
        Assert.Contains("on", Assert.IsType<Outcome.Rejected>(ScheduleVisitEndpoint.Decide(account, command with { VisitId = Guid.NewGuid(), On = Today.AddDays(400) }, Today, Now)).Errors.Keys);

        var cancel = Assert.IsType<Outcome.Accepted>(CancelVisitEndpoint.Decide(account, command.VisitId, new CancelVisit("rescheduled"), Now));
        account = account.Then([.. cancel.AllEvents]);
        Assert.True(account.Visits.Single().Cancelled);
        Assert.IsType<Outcome.Replayed>(CancelVisitEndpoint.Decide(account, command.VisitId, new CancelVisit("again"), Now));
        Assert.Equal(404, Assert.IsType<Outcome.Rejected>(CancelVisitEndpoint.Decide(account, Guid.NewGuid(), new CancelVisit("x"), Now)).Status);
    }

    [Fact]
    public void a_visit_stands_on_its_coverages_latest_answer_counted_from_the_visits_day()
    {
        var visit = Scheduled(Today.AddDays(1));
        VisitEligibility On(params object[] events) => EligibilityOnAccount.ForVisit(Account([visit, .. events]), Account([visit, .. events]).Visits[0]);

        Assert.Equal("none", On().Status);
        Assert.Equal("current", On(Check(Today.AddDays(-29), true)).Status);
        // 31 days before the visit: stale, though it is 30 days before today.
        Assert.Equal("stale", On(Check(Today.AddDays(-30), true)).Status);
        Assert.Equal("inactive", On(Check(Today, false)).Status);
        Assert.Equal("rejected", On(Check(Today, null, "Subscriber/insured not found (75): Please correct and resubmit")).Status);
        // The latest answer counts, by the day the payer gave it.
        Assert.Equal("current", On(Check(Today, true), Check(Today.AddDays(-3), false)).Status);
        var selfPay = Given.Aggregate<PatientAccount>([new PatientRegistered(PatientId, "Cash", "Only", new DateOnly(1990, 1, 1), null, null, Now), visit]);
        Assert.Equal("self-pay", EligibilityOnAccount.ForVisit(selfPay, selfPay.Visits[0]).Status);
        Assert.False(EligibilityOnAccount.ForVisit(selfPay, selfPay.Visits[0]).NeedsAttention);
    }

    [Fact]
    public void an_inquiry_asks_about_the_named_or_primary_coverage_and_a_batch_about_visits_without_a_current_answer()
    {
        var account = Account();
        Payer? PayerOf(Guid id) => id == Payer.Id ? Payer : null;
        var command = new RequestEligibility(Guid.NewGuid(), PatientId);
        var batch = Assert.IsType<EligibilityInquiryBatch>(Assert.IsType<Outcome.Accepted>(
            RequestEligibilityEndpoint.Decide(null, command, account, [], PayerOf, Today, "u1", Now)).Answer);
        Assert.Equal([RequestEligibilityEndpoint.Trace(command.RequestId, 1)], batch.Traces);
        Assert.IsType<Outcome.Replayed>(RequestEligibilityEndpoint.Decide(batch, command, account, [], PayerOf, Today, "u1", Now));
        Assert.Equal(409, Assert.IsType<Outcome.Rejected>(RequestEligibilityEndpoint.Decide(batch, command with { PatientId = null, Days = 2 }, null, [], PayerOf, Today, "u1", Now)).Status);
        Assert.Contains("coverageId", Assert.IsType<Outcome.Rejected>(
            RequestEligibilityEndpoint.Decide(null, command with { CoverageId = Guid.NewGuid() }, account, [], PayerOf, Today, "u1", Now)).Errors.Keys);
        Assert.Contains("no X12 payer id", Assert.IsType<Outcome.Rejected>(RequestEligibilityEndpoint.Decide(null, command, account, [],
            _ => new Payer { Id = Payer.Id, Name = "Paper Only Mutual" }, Today, "u1", Now)).Errors["coverageId"][0]);
        Assert.Contains("patientId", Assert.IsType<Outcome.Rejected>(RequestEligibilityEndpoint.Decide(null, command, account, [], PayerOf, Today.AddDays(-400), "u1", Now)).Errors.Keys);

        // The batch: tomorrow's visit with no answer and the one in 3 days with a stale one, not the one answered last week nor the cancelled one.
        var (tomorrow, later, answered, cancelled) = (Scheduled(Today.AddDays(1)), Scheduled(Today.AddDays(3)), Scheduled(Today.AddDays(2)), Scheduled(Today.AddDays(1)));
        var unanswered = Account(tomorrow, later, cancelled, new VisitCancelled(PatientId, cancelled.VisitId, "no", Now));
        var other = Guid.NewGuid();
        var current = Given.Aggregate<PatientAccount>([
            new PatientRegistered(other, "Ines", "Wojcikowska", new DateOnly(1975, 1, 1), null, null, Now),
            new CoverageRecorded(other, Guid.NewGuid(), Payer.Id, "IWO2", null, null, CoveragePriority.Primary, null, null, null, Today.AddDays(-10), null, Now), answered]);
        current = current.Then(new EligibilityChecked(other, current.Coverages[0].CoverageId, Guid.NewGuid(), Today.AddDays(-7), null, "271", null, Summary(true), null, null, Now));
        var members = RequestEligibilityEndpoint.ForVisits(
            [.. unanswered.Visits.Select(v => (unanswered, v)), .. current.Visits.Select(v => (current, v))], PayerOf, Today, 7);
        // One inquiry per coverage, for its earliest visit.
        var member = Assert.Single(members);
        Assert.Equal((PatientId, Today.AddDays(1), tomorrow.VisitId), (member.Account.Id, member.ServiceDate, member.VisitId));
        Assert.Empty(RequestEligibilityEndpoint.ForVisits(current.Visits.Select(v => (current, v)), PayerOf, Today, 7));
        Assert.Contains("days", Assert.IsType<Outcome.Rejected>(
            RequestEligibilityEndpoint.Decide(null, new RequestEligibility(Guid.NewGuid(), Days: 7), null, [], PayerOf, Today, "u1", Now)).Errors.Keys);
    }

    [Fact]
    public void an_answer_is_recorded_once_on_its_coverage_and_one_matched_to_none_is_listed()
    {
        var account = Account();
        var file = Build("BPH01", 88, Today, "BLUE PRAIRIE HEALTH", "BPH01",
            new Member("T-1", "QMX4410021", "QUENNEVILLE", "MARISOL", Active), new Member(null, "ZZZ", "NOBODY", "KNOWN", Inactive));
        var interchange = X12Reader.Read(file);
        var answers = Eligibility271Reader.Read(interchange);
        var id = ImportEligibilityEndpoint.FileId(interchange);
        IReadOnlyList<EligibilityMatch> matches = [new(1, answers[0], account, account.Coverages[0], null), new(2, answers[1], null, null, null)];

        var outcome = Assert.IsType<Outcome.Accepted>(ImportEligibilityEndpoint.Decide(null, id, interchange, "h1", matches, Today, "u1", Now));
        var check = Assert.IsType<EligibilityChecked>(Assert.Single(outcome.AllEvents));
        Assert.Equal((CoverageId, Today, "271 BPH01/000000088", 600m), (check.CoverageId, check.CheckedOn, check.Source, check.Answer.Deductible!.Remaining));
        var recorded = Assert.IsType<EligibilityAnswerFile>(outcome.Answer);
        Assert.Equal(["recorded", "unmatched"], recorded.Results.Select(r => r.Effect));
        Assert.Contains("active, SILVER PPO 2000, deductible left $600.00, copay $40.00, coinsurance 20%", recorded.Results[0].Detail);

        // The same file again answers as before; other content under its number is a conflict.
        Assert.True(Assert.IsType<EligibilityImport>(Assert.IsType<Outcome.Replayed>(
            ImportEligibilityEndpoint.Decide(recorded, id, interchange, "h1", [], Today, "u1", Now)).Answer).Duplicate);
        Assert.Equal(409, Assert.IsType<Outcome.Rejected>(ImportEligibilityEndpoint.Decide(recorded, id, interchange, "h2", [], Today, "u1", Now)).Status);
        // An answer already on the account (its check id) is not recorded again.
        var again = Assert.IsType<Outcome.Accepted>(ImportEligibilityEndpoint.Decide(null, id, interchange, "h1", [matches[0] with { Account = account.Then(check) }], Today, "u1", Now));
        Assert.Empty(again.AllEvents);
        Assert.Equal("already-recorded", Assert.IsType<EligibilityAnswerFile>(again.Answer).Results[0].Effect);
    }
}
