using KetamineBilling.Features.Ui;
using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Patients;

/// <summary>One financial event on the account, with the account's figures right after it.</summary>
/// <param name="PostedOn">The clinic day it was recorded: entries run, and "as of" cuts, in posting order.</param>
/// <param name="Date">Its business date: the date of service of a charge, the day a payment was received.</param>
/// <param name="Balance">What the account owes after this entry: open amounts less unapplied credit.</param>
/// <param name="UserId">The user id the event was stamped with (null for an event recorded before events carried it).</param>
/// <param name="By">Who recorded it: the user's display name, "system" or "unknown" (<see cref="EventActors"/>).</param>
public sealed record LedgerEntry(
    long Sequence,
    DateTimeOffset RecordedAt,
    DateOnly PostedOn,
    DateOnly Date,
    string Type,
    string Description,
    Guid? SessionId,
    Guid? PaymentId,
    decimal Charges,
    decimal Payments,
    decimal Adjustments,
    decimal Refunds,
    decimal Balance,
    decimal PatientDue,
    decimal InsurancePending,
    decimal EmployerDue,
    decimal GrantPending,
    decimal SponsorPending,
    decimal UnappliedCredit,
    string? UserId = null,
    string? By = null,
    decimal CollectionsDue = 0);

public sealed record AccountFigures(
    decimal TotalCharged, decimal TotalPaid, decimal TotalAdjusted, decimal TotalRefunded, decimal UnappliedCredit,
    decimal PatientDue, decimal InsurancePending, decimal EmployerDue, decimal GrantPending, decimal SponsorPending, decimal Balance,
    decimal CollectionsDue = 0)
{
    public static readonly AccountFigures Zero = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    public static AccountFigures Of(PatientAccount? account)
    {
        if (account is null) return Zero;
        var open = account.Open();
        return new(account.TotalCharged, account.TotalPaid, account.TotalAdjusted, account.TotalRefunded, account.UnappliedCredit,
            open.Patient, open.Insurance, open.Employer, open.Grant, open.Sponsor, open.Total - account.UnappliedCredit, open.Collections);
    }
}

public sealed record PatientLedger(Guid PatientId, string PatientName, DateOnly? AsOf, IReadOnlyList<LedgerEntry> Entries, AccountFigures Closing);

/// <summary>
/// The ledger and statements are folded from the raw events each time (never from the stored balance), so
/// "as of" any past day shows exactly what the account looked like at the end of that day.
/// </summary>
public static class Ledger
{
    public static (PatientAccount? Account, List<LedgerEntry> Entries) Fold(IEnumerable<JasperFx.Events.IEvent> events, TimeZoneInfo zone)
    {
        PatientAccount? account = null;
        var entries = new List<LedgerEntry>();
        foreach (var e in events)
        {
            var before = AccountFigures.Of(account);
            account = PatientAccount.Advance(account, e.Data);
            var after = AccountFigures.Of(account);
            if (Describe(e.Data, account) is not { } line)
            {
                continue;
            }

            var posted = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(e.Timestamp, zone).DateTime);
            entries.Add(new LedgerEntry(e.Sequence, e.Timestamp, posted, line.Date ?? posted, line.Type, line.Text, line.SessionId, line.PaymentId,
                after.TotalCharged - before.TotalCharged,
                after.TotalPaid - before.TotalPaid,
                after.TotalAdjusted - before.TotalAdjusted,
                after.TotalRefunded - before.TotalRefunded,
                after.Balance, after.PatientDue, after.InsurancePending, after.EmployerDue, after.GrantPending, after.SponsorPending,
                after.UnappliedCredit, EventActors.UserIdOf(e), CollectionsDue: after.CollectionsDue));
        }

        return (account, entries);
    }

    private sealed record Line(string Type, string Text, DateOnly? Date = null, Guid? SessionId = null, Guid? PaymentId = null);

    private static Line? Describe(object data, PatientAccount account) => data switch
    {
        SessionDelivered e => new("charge", $"Session of {Fmt.Date(e.DeliveredOn)}: {string.Join(", ", e.Lines.Select(l => l.Units > 1 ? $"{l.Code} x{l.Units}" : l.Code))}",
            e.DeliveredOn, e.SessionId),
        SessionVoided e => new("void", $"Session voided: {e.Reason}", null, e.SessionId),
        PaymentReceived e => new("payment", $"Payment by {ApiEnum.Name(e.Method)}{(e.Reference is null ? "" : $" ({e.Reference})")}", e.ReceivedOn, PaymentId: e.PaymentId),
        PaymentApplied e => new("application", $"Applied {Fmt.Money(e.Total)} to {e.Allocations.Select(a => a.SessionId).Distinct().Count()} session(s)", PaymentId: e.PaymentId),
        PaymentUnapplied e => new("unapplication", $"{Fmt.Money(e.Total)} returned to credit ({e.Reason})", PaymentId: e.PaymentId),
        PaymentReversed e => new("reversal", $"Payment reversed: {e.Reason}", e.ReversedOn, PaymentId: e.PaymentId),
        RefundIssued e => new("refund", $"Refund by {ApiEnum.Name(e.Method)}: {e.Reason}"),
        DiscountGranted e => new("discount", $"Discount, {ApiEnum.Name(e.Basis)}{(e.IncomeBand is null ? "" : $" {e.IncomeBand}")}: {e.Reason}",
            SessionId: e.Allocations.Select(a => a.SessionId).Distinct().Count() == 1 ? e.Allocations[0].SessionId : null),
        BalanceWrittenOff e => new("write-off", $"Written off ({ApiEnum.Name(e.Reason)}){(e.Note is null ? "" : $": {e.Note}")}"),
        NoShowFeeCharged e => new("charge", $"Missed appointment of {Fmt.Date(e.MissedOn)}: {e.Description}{(e.Note is null ? "" : $" ({e.Note})")}", e.MissedOn, e.NoShowId),
        PlacedWithCollectionAgency e => new("collections", $"Placed with {e.AgencyName} ({Fmt.Money(e.Total)}, commission {e.CommissionPercent:0.##} %)", e.PlacedOn),
        CollectionAgencyRecovered e => new("agency-recovery",
            $"{account.Placements.FirstOrDefault(p => p.PlacementId == e.PlacementId)?.AgencyName ?? "Collection agency"} collected {Fmt.Money(e.Collected)}, kept {Fmt.Money(e.Commission)} commission{(e.Reference is null ? "" : $" ({e.Reference})")}",
            e.ReceivedOn),
        RecalledFromCollectionAgency e => new("collections", $"Recalled from {account.Placements.FirstOrDefault(p => p.PlacementId == e.PlacementId)?.AgencyName ?? "the collection agency"}: {e.Reason}"),
        BadDebtReinstated e => new("bad-debt-recovery", $"Bad debt recovered: {Fmt.Money(e.Total)} of the write-off reinstated", PaymentId: e.RecoveryId),
        _ => null
    };

    /// <summary>The end of a clinic day, as an instant: the "as of" cut for events recorded that day.</summary>
    public static DateTimeOffset EndOf(DateOnly day, TimeZoneInfo zone)
    {
        var local = day.AddDays(1).ToDateTime(TimeOnly.MinValue);
        return new DateTimeOffset(local, zone.GetUtcOffset(local)).AddTicks(-1).ToUniversalTime();
    }

    public static async Task<(PatientAccount? Account, List<LedgerEntry> Entries)> LoadAsync(
        IQuerySession session, Guid patientId, DateOnly? asOf, TimeZoneInfo zone, CancellationToken ct)
    {
        var events = asOf is { } day
            ? await session.Events.FetchStreamAsync(patientId, timestamp: EndOf(day, zone), token: ct)
            : await session.Events.FetchStreamAsync(patientId, token: ct);
        return Fold(events, zone);
    }
}

public static class PatientLedgerEndpoint
{
    /// <param name="asOf">The account as recorded by the end of that clinic day (posting date); today when left out.</param>
    [PhiRead("ledger")]
    [WolverineGet("/api/patients/{patientId}/ledger"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static async Task<IResult> Get(Guid patientId, DateOnly? asOf, IQuerySession session, IGlobalStore accounts, ClinicCalendar calendar,
        CancellationToken ct)
    {
        if (asOf > calendar.Today())
        {
            return Problems.Invalid("asOf", "must not be in the future", StatusCodes.Status400BadRequest);
        }

        if (await session.Events.FetchStreamStateAsync(patientId, ct) is null)
        {
            return Problems.NotFound($"patient {patientId} does not exist");
        }

        var (account, folded) = await Ledger.LoadAsync(session, patientId, asOf, calendar.Zone, ct);
        var names = await EventActors.NamesAsync(accounts, folded.Select(x => x.UserId), ct);
        var entries = folded.Select(x => x with { By = names.Name(x.UserId) }).ToList();
        var name = account?.Name ?? (await session.LoadAsync<PatientAccount>(patientId, ct))?.Name ?? "";
        return Results.Ok(new PatientLedger(patientId, name, asOf, entries, AccountFigures.Of(account)));
    }
}
