using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Infrastructure;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Demo;

/// <summary>
/// Builds one demo account through the same decisions the API makes, so the demo events are events the API
/// could have written. Steps happen on days relative to today, in order; each event is stamped with its
/// step's time so that the ledger "as of" a past day shows the account as it was then. Ids derive from the
/// patient's, so a re-seed is stable.
/// </summary>
public sealed class DemoAccount
{
    private readonly FeeSchedule _schedule;
    private readonly ClinicCalendar _calendar;
    private readonly string _diagnosis;
    private int _counter;
    private int _day = int.MinValue;
    private DateTimeOffset _at;

    public DemoAccount(Guid patientId, (string First, string Last, DateOnly Born, string Diagnosis) patient, FeeSchedule schedule, ClinicCalendar calendar, int registeredDay,
        PostalAddress? address = null)
    {
        _schedule = schedule;
        _calendar = calendar;
        _diagnosis = patient.Diagnosis;
        On(registeredDay);
        Take(RegisterPatientEndpoint.Decide(null, new RegisterPatient(patient.First, patient.Last, patient.Born, null, null, address), patientId, _at));
    }

    public PatientAccount Account { get; private set; } = null!;

    public List<object> Events { get; } = [];

    public List<DateTimeOffset> Timestamps { get; } = [];

    /// <summary>Claims filed in the story: each is a claim stream of its own.</summary>
    public List<DemoStream<Claim>> Claims { get; } = [];

    private DateOnly Today => _calendar.Today();

    private DateOnly Date(int day) => Today.AddDays(day);

    private Guid NextId() => DeterministicGuid.From(Account.Id, $"demo-{++_counter}");

    /// <summary>Moves the story to a day (never backwards: the stream must stay in time order).</summary>
    private void On(int day)
    {
        if (day < _day) throw new InvalidOperationException($"demo step on day {day} after day {_day}");
        if (day > 0) throw new InvalidOperationException("demo steps happen today or earlier");
        _day = day;
        _at = At(_calendar, Date(day), _counter % 480);
    }

    /// <summary>A moment of a clinic day: 9:00 local plus some minutes (never later than now).</summary>
    public static DateTimeOffset At(ClinicCalendar calendar, DateOnly date, int minutes = 0)
    {
        var local = date.ToDateTime(new TimeOnly(9, 0)).AddMinutes(minutes);
        var at = new DateTimeOffset(local, calendar.Zone.GetUtcOffset(local)).ToUniversalTime();
        return at > DateTimeOffset.UtcNow ? DateTimeOffset.UtcNow.AddSeconds(-1) : at;
    }

    public int DayOf(DateOnly date) => date.DayNumber - Today.DayNumber;

    private void Add(params object[] events)
    {
        foreach (var e in events)
        {
            Account = PatientAccount.Advance(Account, e);
            Events.Add(e);
            Timestamps.Add(_at);
        }
    }

    /// <summary>The events of a step the patient's own decision accepted (a refusal or a replay stops the demo).</summary>
    private void Take(Outcome outcome)
    {
        if (outcome.AllEvents.Count == 0) throw new InvalidOperationException($"demo step refused: {outcome}");
        Add([.. outcome.AllEvents]);
    }

    public Guid Series(int day, string description, int sessions)
    {
        On(day);
        var id = NextId();
        Take(PlanSeriesEndpoint.Decide(Account, new PlanSeries(id, description, sessions, Date(day)), Date(day), _at));
        return id;
    }

    public void Estimate(int day, Guid series, params (string Code, int Units)[] lines)
    {
        On(day);
        Take(IssueEstimateEndpoint.Decide(
            Account, new IssueGoodFaithEstimate(NextId(), series, Date(day), lines.Select(l => new EstimateLineInput(l.Code, l.Units)).ToList()),
            _schedule, Date(day), _at));
    }

    /// <summary>A visit put on the schedule on <paramref name="day"/> for <paramref name="onDay"/> (tomorrow: 1).</summary>
    public void Visit(int day, int onDay, string time, string purpose)
    {
        On(day);
        Take(ScheduleVisitEndpoint.Decide(Account, new ScheduleVisit(NextId(), Date(onDay), time, purpose), Date(day), _at));
    }

    public void Letter(int day, string condition, string treatment, string frequency, int validDays)
    {
        On(day);
        Take(RecordLetterEndpoint.Decide(
            Account, new RecordLetterOfMedicalNecessity(NextId(), condition, treatment, frequency, Date(day), Date(day + validDays), "dr-patel"),
            DemoSeeder.Providers.Single(p => p.Id == "dr-patel"), _at));
    }

    public Guid Session(int day, string funding = "self-pay", Guid? series = null, (string Code, int Units)[]? lines = null)
    {
        On(day);
        var id = NextId();
        var command = new DeliverSession(id, Date(day), 45, "main-clinic",
            (lines ?? [("96365", 1), ("J3490", 1)]).Select(l => new SessionLineInput(l.Code, l.Units)).ToList(),
            [_diagnosis], "dr-patel", [funding], series);
        Take(DeliverSessionEndpoint.Decide(Account, command, _schedule, null, DemoSeeder.Providers[0], _at));
        return id;
    }

    public void Coverage(int day, Guid payerId, string memberId, int effectiveDay = int.MinValue)
    {
        On(day);
        Take(RecordCoverageEndpoint.Decide(
            Account, new RecordCoverage(NextId(), payerId, memberId, ApiEnum.Name(CoveragePriority.Primary), "GRP-DEMO", null, 40m, 20m, 1500m,
                Date(effectiveDay == int.MinValue ? day - 300 : effectiveDay)),
            DemoSeeder.Payers.Single(p => p.Id == payerId), Date(day), _at));
    }

    public Guid Claim(int day, Guid payerId, IReadOnlyList<Guid> sessions)
    {
        On(day);
        var payer = DemoSeeder.Payers.Single(p => p.Id == payerId);
        var claimId = NextId();
        var outcome = FileClaimEndpoint.Decide(Account, new FileClaim(claimId, Account.Id, payerId, sessions), payer, null,
            new ClinicProfile { Ndcs = new() { ["J3490"] = "00409205101" } }, _at);
        if (outcome is not Outcome.Accepted) throw new InvalidOperationException($"demo claim refused: {outcome}");
        var filed = outcome.EventsFor(claimId).OfType<ClaimFiled>().Single();
        var claim = new DemoStream<Claim>(filed.ClaimId, Features.Claims.Claim.Create(filed), (c, e) =>
        {
            if (e is ClaimAdjudicated adjudicated) c.Apply(adjudicated);
        });
        claim.Events.Add(filed);
        claim.Timestamps.Add(_at);
        Claims.Add(claim);
        Add([.. outcome.EventsFor(Account.Id)]);
        return claim.Id;
    }

    /// <summary>The payer's answer to a claim, posted from its 835 (the remittance stream is written apart) by the posting rules.</summary>
    public PostedClaim Adjudicate(int day, Guid claimId, Guid remittanceId, string trace, IReadOnlyList<PostingLine> lines)
    {
        On(day);
        var claim = Claims.Single(c => c.Id == claimId);
        var outcome = ClaimPosting.Post(claim.State, Account, $"835 {trace}", lines, $"PCN{claim.State.ControlNumber}", remittanceId, _at);
        if (outcome.Problem is not null) throw new InvalidOperationException($"demo posting refused: {outcome.Problem}");
        foreach (var e in outcome.ClaimEvents) claim.Add(e, _at);
        Add([.. outcome.PatientEvents]);
        var status = outcome.ClaimEvents.OfType<ClaimAdjudicated>().Single().Outcome switch { ClaimStatus.Denied => "4", _ => "1" };
        return new PostedClaim(claimId, claim.State.ControlNumber, status, outcome.Paid, outcome.Lines);
    }

    public void Enroll(int day, DemoStream<EmployerAgreement> employer, string memberId)
    {
        On(day);
        foreach (var year in new[] { Date(day).Year, _calendar.Today().Year }.Distinct())
            foreach (var e in EnrollEmployeeEndpoint.Decide(employer.State, new EnrollEmployee(Account.Id, memberId, year), Account, _at).EventsFor(employer.Id))
                employer.Add(e, _at);
    }

    /// <summary>An employer-funded session and what the employer's cascade does with it (the cascade's own decision).</summary>
    public void EmployerSession(int day, DemoStream<EmployerAgreement> employer)
    {
        var sessionId = Session(day, funding: "employer");
        var session = Account.Session(sessionId)!;
        var outcome = CommitDirectPayHandler.Decide(
            Account, [employer.State], new EmployerFundedSessionDelivered(Account.Id, sessionId, session.DeliveredOn, session.Delivered.Lines), _at);
        foreach (var e in outcome.EventsFor(employer.Id)) employer.Add(e, _at);
        Add([.. outcome.EventsFor(Account.Id)]);
    }

    /// <summary>The employer's invoice for the month before the given day, when it has uninvoiced sessions.</summary>
    public void EmployerInvoice(int day, DemoStream<EmployerAgreement> employer)
    {
        On(day);
        var month = new DateOnly(Date(day).Year, Date(day).Month, 1).AddMonths(-1);
        // The invoice's id is the next demo id, taken only when the month has something to invoice (the ids after it stay as they were).
        var outcome = IssueInvoiceEndpoint.Decide(employer.State, new IssueInvoice(DeterministicGuid.From(Account.Id, $"demo-{_counter + 1}"), $"{month:yyyy-MM}"), Date(day), _at);
        if (!outcome.IsAccepted) return;
        NextId();
        foreach (var e in outcome.EventsFor(employer.Id)) employer.Add(e, _at);
    }

    /// <summary>The employer pays up to the amount on its open invoices; this patient's lines are paid on the account (the payment endpoint's decisions).</summary>
    public void EmployerPayment(int day, DemoStream<EmployerAgreement> employer, decimal amount, string reference)
    {
        On(day);
        amount = Math.Min(amount, employer.State.Invoices.Where(i => i.Open > 0).Sum(i => i.Open));
        if (amount <= 0) return;
        var outcome = RecordEmployerPaymentEndpoint.Decide(employer.State, new RecordEmployerPayment(NextId(), reference, amount, Date(day), null), _at);
        foreach (var e in outcome.EventsFor(employer.Id)) employer.Add(e, _at);
        Add([.. outcome.EventsFor(Account.Id)]);
    }

    /// <summary>A grant-funded session and what the grant's cascade decides (the award applied, the clinic's reduction, the rest to the patient).</summary>
    public void GrantSession(int day, DemoStream<KetamineBilling.Features.Grants.Grant> grant)
    {
        var sessionId = Session(day, funding: "grant");
        var session = Account.Session(sessionId)!;
        var outcome = KetamineBilling.Features.Grants.ApplyGrantHandler.Decide(
            Account, [grant.State], new KetamineBilling.Features.Grants.GrantFundedSessionDelivered(Account.Id, sessionId, session.DeliveredOn, session.Delivered.Lines), _at);
        foreach (var e in outcome.EventsFor(grant.Id)) grant.Add(e, _at);
        Add([.. outcome.EventsFor(Account.Id)]);
    }

    /// <summary>A study session: the subject enrolled first (once), then what the study's cascade decides.</summary>
    public void StudySession(int day, DemoStream<KetamineBilling.Features.Studies.Study> study, string subjectId)
    {
        On(day);
        if (study.State.Subjects.All(s => s.PatientId != Account.Id))
        {
            foreach (var e in KetamineBilling.Features.Studies.EnrollStudyPatientEndpoint.Decide(
                         study.State, new KetamineBilling.Features.Studies.EnrollStudyPatient(Account.Id, subjectId), _at).EventsFor(study.Id))
                study.Add(e, _at);
        }

        var sessionId = Session(day, funding: "study");
        var session = Account.Session(sessionId)!;
        var outcome = KetamineBilling.Features.Studies.CoverStudySessionHandler.Decide(
            Account, study.State, new KetamineBilling.Features.Studies.StudyFundedSessionDelivered(Account.Id, sessionId, session.DeliveredOn, session.Delivered.Lines), _at);
        foreach (var e in outcome.EventsFor(study.Id)) study.Add(e, _at);
        Add([.. outcome.EventsFor(Account.Id)]);
    }

    public void Payment(int day, string method, decimal amount, string reference, Guid? forSession = null)
    {
        On(day);
        Take(RecordPaymentEndpoint.Decide(Account, new RecordPayment(NextId(), method, amount, Date(day), reference,
            forSession is { } session ? [new LineTarget(session, null)] : null), _at));
    }

    public void Discount(int day, Guid series, string incomeBand)
    {
        On(day);
        Take(GrantDiscountEndpoint.Decide(
            Account, new GrantDiscount(NextId(), "sliding-scale", null, null, incomeBand, null, series, "Household income 250% of the federal poverty guideline"),
            _at));
    }

    public void Plan(int day, params (int Day, decimal Amount)[] instalments)
    {
        On(day);
        Take(AgreePaymentPlanEndpoint.Decide(
            Account, new AgreePaymentPlan(NextId(), Date(day), instalments.Select(i => new InstalmentInput(Date(i.Day), i.Amount)).ToList()),
            Date(day), _at));
    }

    public void Void(int day, Guid session, string reason)
    {
        On(day);
        // The demo's voided sessions are self-pay: no employer invoice to ask about, no third party to tell.
        Add([.. VoidSessionEndpoint.Decide(Account, new VoidSession(reason), session, null, _at).EventsFor(Account.Id)]);
    }

    public void Refund(int day, decimal amount, string method, string reason)
    {
        On(day);
        Take(IssueRefundEndpoint.Decide(Account, new IssueRefund(NextId(), amount, method, reason), _at));
    }

    public void ApplyCredit(int day)
    {
        On(day);
        Take(ApplyCreditEndpoint.Decide(Account, new ApplyCredit(NextId(), null, null, null), _at));
    }

    public void WriteOff(int day, string reason, string note)
    {
        On(day);
        Take(WriteOffBalanceEndpoint.Decide(Account, new WriteOffBalance(NextId(), reason, note, null, null), _at));
    }
}
