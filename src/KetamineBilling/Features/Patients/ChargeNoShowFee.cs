using KetamineBilling.Features.GeneralLedger;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

/// <param name="NoShowId">Made by the client: the idempotency key and the charge's id on the account.</param>
/// <param name="MissedOn">The day of the appointment the patient missed.</param>
public record ChargeNoShowFee(Guid NoShowId, DateOnly? MissedOn, string? Note);

public record NoShowFeeView(Guid NoShowId, DateOnly MissedOn, string Code, string Description, decimal Amount, decimal Open, string? Note);

public static class ChargeNoShowFeeEndpoint
{
    /// <summary>The fee schedule's code for the clinic's missed-appointment fee: its price there is the clinic's set price.</summary>
    public const string Code = "NOSHW";

    public static ProblemDetails Validate(ChargeNoShowFee command, ClinicCalendar calendar)
    {
        var problems = new ValidationProblems();
        if (command.NoShowId == Guid.Empty) problems.Add("noShowId", "is required: a client-made id that makes the charge idempotent");
        if (command.MissedOn is not { } on) problems.Add("missedOn", "is required (yyyy-MM-dd)");
        else if (on > calendar.Today()) problems.Add("missedOn", "must not be in the future: charge a missed appointment once it is missed");
        if (command.Note is { Length: > 200 }) problems.Add("note", "must be at most 200 characters");
        return problems.ToProblemDetails();
    }

    public static async Task<(FeeSchedule?, SessionOwner?, Books?)> LoadAsync(ChargeNoShowFee command, IQuerySession session, CancellationToken ct) =>
        (await session.LoadAsync<FeeSchedule>(FeeSchedule.StreamId, ct), await session.LoadAsync<SessionOwner>(command.NoShowId, ct), await Books.LoadAsync(session, ct));

    public static NoShowFeeView View(AccountSession s) =>
        new(s.SessionId, s.DeliveredOn, s.NoShow!.Code, s.NoShow.Description, s.NoShow.Amount, s.Lines.Sum(l => l.Open.Total), s.NoShow.Note);

    /// <summary>
    /// The fee at the clinic's price for the missed day (<see cref="Code"/> in the fee schedule), owed by the patient; one per
    /// missed appointment, and never on a day the account already has a fee for.
    /// </summary>
    public static Outcome Decide(PatientAccount account, ChargeNoShowFee command, FeeSchedule? schedule, SessionOwner? owner, DateTimeOffset now)
    {
        if (owner is not null && owner.PatientId != account.Id)
            return Outcome.Conflict($"charge {command.NoShowId} is already recorded on another patient's account");
        var fingerprint = Fingerprint.Of(command);
        if (account.Session(command.NoShowId) is { } existing)
        {
            return existing.NoShow?.Fingerprint == fingerprint
                ? Outcome.Replay(View(existing))
                : Outcome.Conflict($"charge {command.NoShowId} was already recorded with other content");
        }

        var missedOn = command.MissedOn!.Value;
        if (schedule?.PriceOn(Code, missedOn) is not { } price)
            return Outcome.Reject("missedOn", $"the fee schedule has no missed-appointment fee (code {Code}) on {Fmt.Date(missedOn)}: set its price first");
        if (account.Sessions.Any(s => s.NoShow is not null && !s.Voided && s.DeliveredOn == missedOn))
            return Outcome.Conflict($"A missed-appointment fee for {Fmt.Date(missedOn)} is on the account already");

        var charged = new NoShowFeeCharged(account.Id, command.NoShowId, missedOn, Code, price.Description, price.Price,
            string.IsNullOrWhiteSpace(command.Note) ? null : command.Note.Trim(), now, fingerprint);
        return Outcome.Created($"/api/patients/{account.Id}/no-show-fees/{command.NoShowId}",
                new NoShowFeeView(charged.NoShowId, missedOn, Code, charged.Description, charged.Amount, charged.Amount, charged.Note))
            .Append(account.Id, charged);
    }

    [WolverinePost("/api/patients/{patientId}/no-show-fees"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Collections")]
    public static (IResult, Events) Post(
        ChargeNoShowFee command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account, FeeSchedule? schedule,
        SessionOwner? owner, Books? books, TimeProvider clock)
    {
        var outcome = ClosedPeriods.Guard(Decide(account, command, schedule, owner, clock.GetUtcNow()), books, command.MissedOn, "missedOn");
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
