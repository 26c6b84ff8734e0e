using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.Providers;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace KetamineBilling.Tests.Features.Patients;

/// <summary>
/// Issue 15's decisions on the account, without a host: a coverage changed or ended from a date (and what claims then pick),
/// copay assistance, boosters, and the split of a session before it is recorded.
/// </summary>
public class coverage_and_session_decisions
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 15, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Today = new(2026, 6, 1);
    private static readonly Provider Provider = new() { Id = "dr-a", Name = "A", Npi = "1234567893" };
    private static readonly Payer Payer = new() { Id = Guid.NewGuid(), Name = "Blue", PayerId = "BLU01" };

    private static readonly ClinicProfile Clinic = new();
    private readonly Guid _patientId = Guid.NewGuid();
    private readonly Guid _coverageId = Guid.NewGuid();

    private PatientRegistered Registered => new(_patientId, "Avery", "Lindqvist", new DateOnly(1984, 3, 12), null, null, Now.AddDays(-60));

    /// <summary>Blue, member M-1, primary with a 40.00 copay, from 2026-01-01, open.</summary>
    private CoverageRecorded Coverage => new(_patientId, _coverageId, Payer.Id, "M-1", "G-1", null, CoveragePriority.Primary, 40m, null, null,
        new DateOnly(2026, 1, 1), null, Now.AddDays(-30));

    private PatientAccount Account(params object[] events) => Given.Aggregate<PatientAccount>([Registered, .. events]);

    private SessionDelivered Insured(Guid id, DateOnly on) => new(_patientId, id, on, 45, "main",
        [new ChargeLine(1, "96365", "IV infusion", 1, 450m, 450m)], ["F33.2"], 450m, Now, "dr-a", [FundingSource.Insurance], null, null, ResponsibleParty.Insurance);

    private static FeeSchedule Schedule()
    {
        var schedule = new FeeSchedule { Id = FeeSchedule.StreamId };
        var projection = new FeeScheduleProjection();
        projection.Apply(new FeePriceSet(schedule.Id, "96365", "IV infusion", 450m, new DateOnly(2026, 1, 1), Now), schedule);
        projection.Apply(new FeePriceSet(schedule.Id, "J3490", "Ketamine", 60m, new DateOnly(2026, 1, 1), Now), schedule);
        return schedule;
    }

    private static Outcome.Rejected Rejected(Outcome outcome, int status, string? field = null)
    {
        var rejected = Assert.IsType<Outcome.Rejected>(outcome);
        Assert.Equal(status, rejected.Status);
        if (field is not null) Assert.Contains(field, rejected.Errors.Keys);
        return rejected;
    }

    private T Single<T>(Outcome outcome, int status)
    {
        var accepted = Assert.IsType<Outcome.Accepted>(outcome);
        Assert.Equal(status, accepted.Status);
        return Assert.IsType<T>(Assert.Single(outcome.EventsFor(_patientId)));
    }

    [Fact]
    public void a_change_ends_the_coverage_the_day_before_and_claims_from_then_on_carry_the_new_member_id()
    {
        var command = new ChangeCoverage(Guid.NewGuid(), new DateOnly(2026, 4, 1), " M-2 ", "primary", "G-1", 25m);

        var changed = Single<CoverageChanged>(ChangeCoverageEndpoint.Decide(Account(Coverage), _coverageId, command, Now), StatusCodes.Status201Created);

        Assert.Equal(("M-2", 25m, (DateOnly?)null), (changed.MemberId, changed.Copay, changed.PreviousActiveTo));
        Assert.Equal(DeterministicGuid.From(command.ChangeId, "coverage"), changed.NewCoverageId);
        var account = Account(Coverage, changed);
        Assert.Equal(new DateOnly(2026, 3, 31), account.Coverages.Single(c => c.CoverageId == _coverageId).ActiveTo);
        var successor = account.Coverages.Single(c => c.CoverageId == changed.NewCoverageId);
        Assert.Equal((Payer.Id, "M-2", new DateOnly(2026, 4, 1), (DateOnly?)null), (successor.PayerId, successor.MemberId, successor.ActiveFrom, successor.ActiveTo));

        // Claims pick the coverage active on the dates of service: the old terms before the change, the new ones after.
        var before = Guid.NewGuid();
        var after = Guid.NewGuid();
        var withSessions = account.Then(Insured(before, new DateOnly(2026, 3, 20)), Insured(after, new DateOnly(2026, 4, 20)));
        Assert.Equal(_coverageId, FiledCoverage(withSessions, before));
        Assert.Equal(changed.NewCoverageId, FiledCoverage(withSessions, after));
        Rejected(FileClaimEndpoint.Decide(withSessions, new FileClaim(Guid.NewGuid(), _patientId, Payer.Id, [before, after]), Payer, null, Clinic, Now),
            StatusCodes.Status422UnprocessableEntity, "payerId");

        // The same change again is a replay; other content under its id a conflict; the replaced coverage is changed through its successor.
        Assert.IsType<Outcome.Replayed>(ChangeCoverageEndpoint.Decide(account, _coverageId, command, Now.AddHours(1)));
        Rejected(ChangeCoverageEndpoint.Decide(account, _coverageId, command with { Copay = 30m }, Now), StatusCodes.Status409Conflict);
        Rejected(ChangeCoverageEndpoint.Decide(account, _coverageId, command with { ChangeId = Guid.NewGuid() }, Now), StatusCodes.Status422UnprocessableEntity, "coverageId");
        // Recording the original coverage again is still a replay of it.
        Assert.IsType<Outcome.Replayed>(RecordCoverageEndpoint.Decide(account,
            new RecordCoverage(_coverageId, Payer.Id, "M-1", "primary", "G-1", Copay: 40m, ActiveFrom: new DateOnly(2026, 1, 1)), Payer, Today, Now));
    }

    private Guid FiledCoverage(PatientAccount account, Guid sessionId)
    {
        var outcome = FileClaimEndpoint.Decide(account, new FileClaim(Guid.NewGuid(), _patientId, Payer.Id, [sessionId]), Payer, null, Clinic, Now);
        var filed = Assert.IsType<ClaimFiled>(Assert.IsType<Outcome.Accepted>(outcome).Streams.SelectMany(s => s.Events).OfType<ClaimFiled>().Single());
        return filed.CoverageId;
    }

    [Fact]
    public void a_change_outside_the_active_period_or_that_changes_nothing_is_refused()
    {
        var account = Account(Coverage);
        var command = new ChangeCoverage(Guid.NewGuid(), new DateOnly(2025, 12, 31), "M-2", "primary", "G-1", 40m);

        Rejected(ChangeCoverageEndpoint.Decide(account, _coverageId, command, Now), StatusCodes.Status422UnprocessableEntity, "effectiveFrom");
        Rejected(ChangeCoverageEndpoint.Decide(account, _coverageId, command with { EffectiveFrom = Today, MemberId = "M-1" }, Now),
            StatusCodes.Status422UnprocessableEntity, "memberId");
        Rejected(ChangeCoverageEndpoint.Decide(account, Guid.NewGuid(), command with { EffectiveFrom = Today }, Now), StatusCodes.Status404NotFound);
        // On the coverage's first day the new terms replace it from the start: the old period is empty, never active.
        var replaced = Single<CoverageChanged>(
            ChangeCoverageEndpoint.Decide(account, _coverageId, command with { EffectiveFrom = new DateOnly(2026, 1, 1), Priority = "secondary" }, Now),
            StatusCodes.Status201Created);
        var old = account.Then(replaced).Coverages.Single(c => c.CoverageId == _coverageId);
        Assert.False(old.ActiveOn(new DateOnly(2026, 1, 1)));
    }

    [Fact]
    public void ending_a_coverage_stops_claims_after_its_last_day_and_a_coverage_ends_once()
    {
        var command = new EndCoverage(new DateOnly(2026, 4, 30), "changed employer");

        var ended = Single<CoverageEnded>(EndCoverageEndpoint.Decide(Account(Coverage), _coverageId, command, Now), StatusCodes.Status200OK);

        Assert.Equal((new DateOnly(2026, 4, 30), "changed employer", (DateOnly?)null), (ended.EndedOn, ended.Reason, ended.PreviousActiveTo));
        var session = Guid.NewGuid();
        var account = Account(Coverage, ended, Insured(session, new DateOnly(2026, 5, 10)));
        Rejected(FileClaimEndpoint.Decide(account, new FileClaim(Guid.NewGuid(), _patientId, Payer.Id, [session]), Payer, null, Clinic, Now),
            StatusCodes.Status422UnprocessableEntity, "payerId");
        Assert.IsType<Outcome.Replayed>(EndCoverageEndpoint.Decide(account, _coverageId, command, Now));
        Rejected(EndCoverageEndpoint.Decide(account, _coverageId, command with { EndedOn = new DateOnly(2026, 4, 29) }, Now), StatusCodes.Status409Conflict);
        Rejected(EndCoverageEndpoint.Decide(Account(Coverage), _coverageId, command with { EndedOn = new DateOnly(2025, 12, 1) }, Now),
            StatusCodes.Status422UnprocessableEntity, "endedOn");
        // The recording is still a replay after the end cut its period short.
        Assert.IsType<Outcome.Replayed>(RecordCoverageEndpoint.Decide(account,
            new RecordCoverage(_coverageId, Payer.Id, "M-1", "primary", "G-1", Copay: 40m, ActiveFrom: new DateOnly(2026, 1, 1)), Payer, Today, Now));
    }

    [Fact]
    public void copay_assistance_is_recorded_as_data_and_its_id_is_kept_for_its_content()
    {
        var command = new RecordCopayAssistance(Guid.NewGuid(), " Spravato withMe ", " SWM-778 ", 8000m);

        var recorded = Single<CopayAssistanceRecorded>(RecordCopayAssistanceEndpoint.Decide(Account(), command, Today, Now), StatusCodes.Status201Created);

        Assert.Equal(("Spravato withMe", "SWM-778", 8000m, Today), (recorded.ProgramName, recorded.MemberId, recorded.AnnualMaximum, recorded.ActiveFrom));
        Assert.IsType<Outcome.Replayed>(RecordCopayAssistanceEndpoint.Decide(Account(recorded), command, Today.AddDays(2), Now.AddDays(2)));
        Rejected(RecordCopayAssistanceEndpoint.Decide(Account(recorded), command with { AnnualMaximum = 9000m }, Today, Now), StatusCodes.Status409Conflict);
        Assert.Contains("annualMaximum", RecordCopayAssistanceEndpoint.Validate(command with { AnnualMaximum = 0m }) is Microsoft.AspNetCore.Http.HttpValidationProblemDetails v
            ? v.Errors.Keys : []);
    }

    [Fact]
    public void a_booster_in_a_series_is_marked_and_counted_and_another_flag_under_the_same_id_is_a_conflict()
    {
        var series = new TreatmentSeriesPlanned(_patientId, Guid.NewGuid(), "Initial six", 6, Today.AddDays(-20), Now);
        var command = new DeliverSession(Guid.NewGuid(), Today.AddDays(-1), 45, "main", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-a",
            SeriesId: series.SeriesId, Booster: true);

        var outcome = DeliverSessionEndpoint.Decide(Account(series), command, Schedule(), null, Provider, Now);

        var delivered = Assert.IsType<SessionDelivered>(Assert.IsType<Outcome.Accepted>(outcome).Streams.Single().Events[0]);
        Assert.True(delivered.Booster);
        var account = Account(series, delivered);
        Assert.Equal((1, 1), (SeriesQueries.Views(account).Single().Delivered, SeriesQueries.Views(account).Single().Boosters));
        Rejected(DeliverSessionEndpoint.Decide(account, command with { Booster = null }, Schedule(), null, Provider, Now), StatusCodes.Status409Conflict);
        // Events from before the flag read as not a booster.
        Assert.False(Account(series, delivered with { Booster = default }).Sessions.Single().Booster);
    }

    [Fact]
    public void the_split_before_saving_comes_from_the_charge_and_the_employers_own_decision_and_appends_nothing()
    {
        var employerId = Guid.NewGuid();
        var agreement = Given.Aggregate<EmployerAgreement>(
            new EmployerRegistered(employerId, "Acme", null, new EmployerTerms(null, 80m, ["96365"], 2000m, null, 30, false), Now),
            new EmployeeEnrolled(employerId, _patientId, "ACM-1", Today.Year, Now));
        var command = new DeliverSession(Guid.NewGuid(), Today.AddDays(-1), 45, "main", [new SessionLineInput("96365", 1), new SessionLineInput("J3490", 1)],
            ["F33.2"], "dr-a", ["employer", "grant"]);

        var outcome = PreviewSessionEndpoint.Decide(Account(), command, Schedule(), null, Provider, [agreement], [], null, Now);

        var accepted = Assert.IsType<Outcome.Accepted>(outcome);
        Assert.Empty(accepted.Streams);
        Assert.Empty(accepted.Messages);
        var split = Assert.IsType<SessionSplit>(accepted.Answer);
        // 80% of 96365 (360.00) is the employer's; the rest of it and the uncovered J3490 are the patient's.
        Assert.Equal((360m, 150m), (split.Session.EmployerDue, split.Session.PatientDue));
        Assert.Equal((360m, 90m), (split.Session.Lines[0].EmployerDue, split.Session.Lines[0].PatientDue));
        Assert.Contains(split.Notes, n => n.StartsWith("grant:"));
        Rejected(PreviewSessionEndpoint.Decide(Account(), command, Schedule(), null, null, [agreement], [], null, Now), StatusCodes.Status422UnprocessableEntity, "providerId");
    }

    [Fact]
    public void the_split_of_a_grant_funded_session_shows_the_clinics_fee_sharing_as_adjusted()
    {
        // Fee sharing: the clinic gives up half, the fund pays half of the rest.
        var award = AwardGrantEndpoint.Decide(null, new AwardGrant(Guid.NewGuid(), _patientId, "Hope Foundation", 1000m, 6, "fee-sharing", null, null, 50m, 50m,
            Today.AddDays(-30), Today.AddDays(60)), true, Now);
        var grant = Given.Aggregate<Grant>(award.AllEvents.ToArray());
        var command = new DeliverSession(Guid.NewGuid(), Today.AddDays(-1), 45, "main", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-a", ["grant"]);

        var split = Assert.IsType<SessionSplit>(Assert.IsType<Outcome.Accepted>(
            PreviewSessionEndpoint.Decide(Account(), command, Schedule(), null, Provider, [], [grant], null, Now)).Answer);

        Assert.Equal((225m, 112.50m, 112.50m), (split.Session.Adjusted, split.Session.GrantPending, split.Session.PatientDue));
    }
}
