using KetamineBilling.Features.Ui;
using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Patients;

/// <summary>
/// One charge line and where its money stands. On a live session every line balances:
/// Charge = Paid + Adjusted + Open, where Paid = PatientPaid + InsurancePaid + EmployerPaid + GrantPaid + SponsorPaid and
/// Open = PatientDue + InsurancePending + EmployerDue + GrantPending + SponsorPending + CollectionsDue. A voided session's lines owe nothing.
/// What a collection agency collected on the line counts as the patient's (PatientPaid).
/// </summary>
/// <param name="Paid">Paid by every party (before issue 21 a line's paid counted the patient only: that is <see cref="PatientPaid"/>).</param>
public sealed record BalanceLine(
    int LineNumber, string Code, string Description, int Units, decimal UnitPrice, decimal Charge, decimal Paid, decimal Adjusted,
    decimal PatientDue, decimal InsurancePending, decimal EmployerDue, decimal GrantPending, decimal SponsorPending,
    decimal InsurancePaid = 0, bool Denied = false, decimal PatientPaid = 0, decimal EmployerPaid = 0, decimal GrantPaid = 0, decimal SponsorPaid = 0,
    decimal CollectionsDue = 0, IReadOnlyList<string>? Modifiers = null, DrugGiven? Drug = null)
{
    /// <summary>Still owed on the line, by anyone.</summary>
    public decimal Open => PatientDue + InsurancePending + EmployerDue + GrantPending + SponsorPending + CollectionsDue;
}

public sealed record BalanceSession(
    Guid SessionId, DateOnly DeliveredOn, string? ProviderId, IReadOnlyList<FundingSource> Funding, Guid? SeriesId, int? SeriesSessionNumber,
    bool Voided, string? VoidReason, decimal Charge, decimal Paid, decimal Adjusted,
    decimal PatientDue, decimal InsurancePending, decimal EmployerDue, decimal GrantPending, decimal SponsorPending,
    IReadOnlyList<BalanceLine> Lines,
    string? AuthorizationNumber = null,
    AuthorizationFlag? AuthorizationFlag = null,
    IReadOnlyList<Guid>? ClaimIds = null,
    decimal PatientPaid = 0, decimal InsurancePaid = 0, decimal EmployerPaid = 0, decimal GrantPaid = 0, decimal SponsorPaid = 0,
    bool Booster = false,
    decimal CollectionsDue = 0,
    bool NoShow = false,
    string? PlaceOfService = null)
{
    /// <summary>Still owed on the session, by anyone (<see cref="CollectionsDue"/>: placed with a collection agency).</summary>
    public decimal Open => PatientDue + InsurancePending + EmployerDue + GrantPending + SponsorPending + CollectionsDue;

    /// <summary>On a claim (filed, and not withdrawn).</summary>
    public bool Billed => ClaimIds is { Count: > 0 };
}

/// <summary>Something on the account a billing administrator should look at.</summary>
/// <param name="Kind">fsa-without-letter: an FSA/HSA payment paid for a session no valid letter of medical
/// necessity covers. estimate-exceeded: a series' charges exceed its Good Faith Estimate by $400 or more.
/// authorization: an insured session the payer will deny for its prior authorization (CARC 197/198).</param>
/// <param name="SeriesId">The treatment series an estimate-exceeded alert is about (the one to discount).</param>
public sealed record AccountAlert(string Kind, string Message, Guid? SessionId = null, Guid? PaymentId = null, Guid? EstimateId = null, decimal? Amount = null,
    Guid? SeriesId = null);

/// <summary>
/// Who owes what on a patient's account, now. Read from the inline account document, so a write shows at once.
/// The identity: totalCharged - totalPaid - totalAdjusted + totalRefunded = totalOpen - unappliedCredit.
/// </summary>
public sealed record PatientBalance(
    Guid PatientId,
    string PatientName,
    decimal TotalCharged,
    decimal TotalVoided,
    decimal TotalPaid,
    decimal TotalAdjusted,
    decimal TotalRefunded,
    decimal UnappliedCredit,
    decimal TotalInsurancePaid,
    decimal PatientDue,
    decimal InsurancePending,
    decimal EmployerDue,
    decimal GrantPending,
    decimal SponsorPending,
    decimal TotalOpen,
    IReadOnlyList<BalanceSession> Sessions,
    IReadOnlyList<AccountAlert> Alerts,
    int Version,
    DateTimeOffset LastChangedAt,
    decimal CollectionsDue = 0)
{
    public static PatientBalance From(PatientAccount account)
    {
        var open = account.Open();
        return new PatientBalance(
            account.Id, account.Name, account.TotalCharged, account.TotalVoided, account.TotalPaid, account.TotalAdjusted,
            account.TotalRefunded, account.UnappliedCredit, account.TotalInsurancePaid,
            open.Patient, open.Insurance, open.Employer, open.Grant, open.Sponsor, open.Total,
            account.Sessions.OrderBy(s => s.DeliveredOn).Select(Session).ToList(),
            AlertsFor(account),
            account.Version,
            account.LastChangedAt,
            open.Collections);
    }

    public static BalanceSession Session(AccountSession s)
    {
        var open = new PartyAmounts();
        foreach (var line in s.Lines)
        {
            open.Add(line.Open);
        }

        return new BalanceSession(
            s.SessionId, s.DeliveredOn, s.ProviderId, s.Funding, s.SeriesId, s.SeriesSessionNumber, s.Voided, s.VoidReason,
            s.Charge, s.Lines.Sum(l => l.Paid), s.Lines.Sum(l => l.Adjusted),
            open.Patient, open.Insurance, open.Employer, open.Grant, open.Sponsor,
            s.Lines.Select(l => new BalanceLine(l.LineNumber, l.Code, l.Description, l.Units, l.UnitPrice, l.Charge, l.Paid, l.Adjusted,
                l.Open.Patient, l.Open.Insurance, l.Open.Employer, l.Open.Grant, l.Open.Sponsor, l.InsurancePaid, l.Denied,
                l.PatientPaid, l.EmployerPaid, l.GrantPaid, l.SponsorPaid, l.Open.Collections, l.Modifiers, l.Drug)).ToList(),
            s.AuthorizationNumber, s.AuthorizationFlag, s.Claims.Select(c => c.ClaimId).ToList(),
            s.Lines.Sum(l => l.PatientPaid), s.Lines.Sum(l => l.InsurancePaid), s.Lines.Sum(l => l.EmployerPaid), s.Lines.Sum(l => l.GrantPaid),
            s.Lines.Sum(l => l.SponsorPaid), s.Booster, open.Collections, s.NoShow is not null, s.PlaceOfService);
    }

    /// <summary>FSA/HSA administrators reject a claim for a date of service no letter of medical necessity covers.</summary>
    public static bool CoveredByLetter(PatientAccount account, DateOnly dateOfService) =>
        account.Letters.Any(l => l.ValidFrom <= dateOfService && dateOfService <= l.ValidTo);

    public const decimal EstimateTolerance = 400m;

    public static IReadOnlyList<AccountAlert> AlertsFor(PatientAccount account)
    {
        var alerts = new List<AccountAlert>();
        foreach (var payment in account.Payments.Where(p => p.Method is PaymentMethod.Fsa or PaymentMethod.Hsa && !p.Reversed))
        {
            foreach (var sessionId in payment.Applied.Select(a => a.SessionId).Distinct())
            {
                var session = account.Session(sessionId)!;
                if (!CoveredByLetter(account, session.DeliveredOn))
                {
                    alerts.Add(new AccountAlert("fsa-without-letter",
                        $"{ApiEnum.Name(payment.Method).ToUpperInvariant()} payment applied to the session of {Fmt.Date(session.DeliveredOn)}, which no valid letter of medical necessity covers",
                        sessionId, payment.PaymentId, Amount: payment.Applied.Where(a => a.SessionId == sessionId).Sum(a => a.Amount)));
                }
            }
        }

        foreach (var session in account.Sessions.Where(s => !s.Voided && s.AuthorizationFlag is { } flag && flag != AuthorizationFlag.None))
        {
            var (carc, why) = session.AuthorizationFlag switch
            {
                AuthorizationFlag.NoAuthorization => ("197", "no approved prior authorization covers it"),
                AuthorizationFlag.BeyondApprovedCount => ("198", $"it is beyond the sessions approved under {session.AuthorizationNumber}"),
                _ => ("198", $"it falls outside the dates approved under {session.AuthorizationNumber}")
            };
            alerts.Add(new AccountAlert("authorization",
                $"The session of {Fmt.Date(session.DeliveredOn)} will likely be denied (CARC {carc}): {why}", session.SessionId, Amount: session.Charge));
        }

        // No Surprises Act: a self-pay bill $400 or more above the Good Faith Estimate can be disputed.
        // The latest estimate of a series stands; billed is what the patient is charged after discounts (a later
        // write-off of bad debt does not make the bill smaller).
        foreach (var estimate in account.Estimates.GroupBy(e => e.SeriesId).Select(g => g.OrderBy(e => e.IssuedAt).Last()))
        {
            var sessions = account.Sessions.Where(s => s.SeriesId == estimate.SeriesId && !s.Voided).Select(s => s.SessionId).ToHashSet();
            var discounts = account.Discounts.SelectMany(d => d.Allocations).Where(a => sessions.Contains(a.SessionId)).Sum(a => a.Amount);
            var billed = account.Sessions.Where(s => sessions.Contains(s.SessionId)).Sum(s => s.Charge) - discounts;
            if (billed - estimate.Total >= EstimateTolerance)
            {
                alerts.Add(new AccountAlert("estimate-exceeded",
                    $"Charges for the series are {Fmt.Money(billed - estimate.Total)} above the Good Faith Estimate of {Fmt.Money(estimate.Total)} ({Fmt.Date(estimate.IssuedOn)})",
                    EstimateId: estimate.EstimateId, Amount: billed - estimate.Total, SeriesId: estimate.SeriesId));
            }
        }

        return alerts;
    }
}

public static class GetPatientBalanceEndpoint
{
    [PhiRead("balance")]
    [WolverineGet("/api/patients/{patientId}/balance"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static async Task<IResult> Get(Guid patientId, IQuerySession session, CancellationToken ct)
    {
        var account = await session.LoadAsync<PatientAccount>(patientId, ct);
        return account is null
            ? Problems.NotFound($"patient {patientId} does not exist")
            : Results.Ok(PatientBalance.From(account));
    }
}
