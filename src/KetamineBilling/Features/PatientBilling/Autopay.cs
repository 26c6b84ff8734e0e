using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Features.Clinic;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Stripe;
using Wolverine.Http;

namespace KetamineBilling.Features.PatientBilling;

// The autopay stream (one per payment plan, id made from the plan's): the card the patient saved with the processor for the
// plan, and each off-session charge of an instalment, paid or declined.

/// <summary>The patient saved a card with the processor (its hosted setup page) to pay the plan's instalments on their due dates.</summary>
public record AutopayEnrolled(
    Guid AutopayId, Guid PatientId, Guid PlanId, string CustomerId, string PaymentMethodId, string? CardBrand, string? CardLast4, DateOnly EnrolledOn,
    DateTimeOffset RecordedAt);

/// <summary>An instalment charged to the saved card: the card payment <paramref name="PaymentId"/> on the account.</summary>
public record AutopayCharged(
    Guid AutopayId, Guid PatientId, Guid PlanId, int Instalment, int Attempt, string PaymentIntentId, Guid PaymentId, decimal Amount, DateOnly ChargedOn,
    DateTimeOffset RecordedAt);

/// <summary>
/// The card was declined for an instalment. <paramref name="NextAttemptOn"/>: the day it is tried again; null after the last
/// attempt: the instalment is missed (on the worklist until it is paid).
/// </summary>
/// <param name="Reason">The processor's decline code ("insufficient_funds", "expired_card", ...), never its message.</param>
public record AutopayChargeFailed(
    Guid AutopayId, Guid PatientId, Guid PlanId, int Instalment, int Attempt, decimal Amount, string Reason, DateOnly FailedOn, DateOnly? NextAttemptOn,
    DateTimeOffset RecordedAt);

/// <summary>Billing stopped charging the card (the patient asked, or the plan was replaced).</summary>
public record AutopayStopped(Guid AutopayId, Guid PatientId, Guid PlanId, string Reason, DateTimeOffset StoppedAt);

public sealed record AutopayAttempt(int Instalment, int Attempt, DateOnly On, decimal Amount, bool Paid, string? Reason, DateOnly? NextAttemptOn);

/// <summary>A plan's autopay as it stands (inline): the card, whether it is on, and every attempt.</summary>
public sealed class Autopay
{
    public Guid Id { get; set; }
    public int Version { get; set; }
    public Guid PatientId { get; set; }
    public Guid PlanId { get; set; }
    public string CustomerId { get; set; } = "";
    public string PaymentMethodId { get; set; } = "";
    public string? CardBrand { get; set; }
    public string? CardLast4 { get; set; }
    public DateOnly EnrolledOn { get; set; }
    public bool Active { get; set; }
    public string? StoppedReason { get; set; }
    public List<AutopayAttempt> Attempts { get; set; } = [];

    public static Autopay Create(AutopayEnrolled e) => new Autopay { Id = e.AutopayId, PatientId = e.PatientId, PlanId = e.PlanId }.With(e);

    private Autopay With(AutopayEnrolled e)
    {
        (CustomerId, PaymentMethodId, CardBrand, CardLast4, EnrolledOn, Active, StoppedReason) = (e.CustomerId, e.PaymentMethodId, e.CardBrand, e.CardLast4, e.EnrolledOn, true, null);
        return this;
    }

    /// <summary>Another card saved for the same plan: it replaces the first, and autopay is on again.</summary>
    public void Apply(AutopayEnrolled e) => With(e);

    public void Apply(AutopayCharged e) => Attempts.Add(new AutopayAttempt(e.Instalment, e.Attempt, e.ChargedOn, e.Amount, true, null, null));

    public void Apply(AutopayChargeFailed e) => Attempts.Add(new AutopayAttempt(e.Instalment, e.Attempt, e.FailedOn, e.Amount, false, e.Reason, e.NextAttemptOn));

    public void Apply(AutopayStopped e) => (Active, StoppedReason) = (false, e.Reason);

    /// <summary>The instalment's last attempt, if any.</summary>
    public AutopayAttempt? Last(int instalment) => Attempts.LastOrDefault(a => a.Instalment == instalment);

    /// <summary>Declined on every attempt: missed.</summary>
    public bool GaveUp(int instalment) => Last(instalment) is { Paid: false, NextAttemptOn: null };
}

/// <summary>An instalment to charge now: what is left of it (at most what the patient owes), and which attempt this is.</summary>
public sealed record DueCharge(int Instalment, decimal Amount, int Attempt);

public static class AutopayRules
{
    /// <summary>How many times one instalment is tried.</summary>
    public const int MaxAttempts = 3;

    /// <summary>Days between two attempts.</summary>
    public const int RetryAfterDays = 3;

    public static Guid IdOf(Guid planId) => DeterministicGuid.From(planId, "autopay");

    /// <summary>
    /// The instalments to charge today: due by today, not covered by the payments since the plan was agreed, not given up, and
    /// not waiting for their retry day. Each is charged what is left of it, never more than the patient owes after credit.
    /// </summary>
    public static IReadOnlyList<DueCharge> Due(Autopay autopay, PatientAccount account, DateOnly today)
    {
        if (!autopay.Active) return [];
        if (PaymentPlanRules.Views(account, today).FirstOrDefault(v => v.PlanId == autopay.PlanId) is not { } plan) return [];
        var owed = account.Open().Patient - account.UnappliedCredit;
        var due = new List<DueCharge>();
        foreach (var instalment in plan.Instalments.Where(i => i.DueOn <= today && i.PaidTowards < i.Amount).OrderBy(i => i.Number))
        {
            var last = autopay.Last(instalment.Number);
            // Charged already, given up, or waiting for its retry day.
            if (last is { Paid: true } or { NextAttemptOn: null } || last?.NextAttemptOn > today) continue;
            var amount = Math.Min(instalment.Amount - instalment.PaidTowards, owed);
            if (amount < 0.50m) break;
            owed -= amount;
            due.Add(new DueCharge(instalment.Number, amount, (last?.Attempt ?? 0) + 1));
        }

        return due;
    }

    /// <summary>A declined attempt: tried again <see cref="RetryAfterDays"/> later, until the last attempt.</summary>
    public static AutopayChargeFailed Failed(Autopay autopay, DueCharge charge, string reason, DateOnly today, DateTimeOffset now) =>
        new(autopay.Id, autopay.PatientId, autopay.PlanId, charge.Instalment, charge.Attempt, charge.Amount, reason, today,
            charge.Attempt >= MaxAttempts ? null : today.AddDays(RetryAfterDays), now);

    /// <summary>Whether this attempt is already recorded (another node, or an earlier check, got there first).</summary>
    public static bool Recorded(Autopay autopay, DueCharge charge) => autopay.Attempts.Any(a => a.Instalment == charge.Instalment && a.Attempt == charge.Attempt);

    /// <summary>Stopping autopay: refused when it is off already (a replay).</summary>
    public static Outcome Stop(Autopay? autopay, StopAutopay command, DateTimeOffset now)
    {
        if (autopay is null) return Outcome.NotFound("this payment plan has no autopay");
        if (!autopay.Active) return Outcome.Replay(AutopayView.From(autopay));
        var stopped = new AutopayStopped(autopay.Id, autopay.PatientId, autopay.PlanId, command.Reason!.Trim(), now);
        return Outcome.Ok(AutopayView.From(autopay) with { Active = false, StoppedReason = stopped.Reason }).Append(autopay.Id, stopped);
    }
}

public sealed record AutopayView(
    Guid PlanId, bool Active, string? CardBrand, string? CardLast4, DateOnly EnrolledOn, string? StoppedReason, IReadOnlyList<AutopayAttempt> Attempts)
{
    public static AutopayView From(Autopay a) => new(a.PlanId, a.Active, a.CardBrand, a.CardLast4, a.EnrolledOn, a.StoppedReason, a.Attempts);
}

public record StopAutopay(string? Reason);

public static class AutopayEndpoints
{
    /// <summary>Each payment plan's autopay of the patient: the card (brand and last four), on or off, and every attempt.</summary>
    [PhiRead("autopay")]
    [WolverineGet("/api/patients/{patientId}/autopay"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static async Task<IResult> Get(Guid patientId, IQuerySession session, CancellationToken ct)
    {
        if (await session.LoadAsync<PatientAccount>(patientId, ct) is not { } account) return Problems.NotFound($"patient {patientId} does not exist");
        var ids = account.Plans.Select(p => AutopayRules.IdOf(p.PlanId)).ToArray();
        var autopays = ids.Length == 0 ? [] : await session.LoadManyAsync<Autopay>(ct, ids);
        return Results.Ok(autopays.OrderBy(a => a.EnrolledOn).Select(AutopayView.From).ToList());
    }
}

public static class StopAutopayEndpoint
{
    public static ProblemDetails Validate(StopAutopay command)
    {
        var problems = new ValidationProblems();
        if (string.IsNullOrWhiteSpace(command.Reason)) problems.Add("reason", "is required: why the card is no longer charged");
        else if (command.Reason.Length > 200) problems.Add("reason", "must be at most 200 characters");
        return problems.ToProblemDetails();
    }

    /// <summary>Stops charging the saved card for the plan: no more attempts; what is due is paid another way.</summary>
    [WolverinePost("/api/patients/{patientId}/payment-plans/{planId}/autopay/stop"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static async Task<IResult> Post(Guid patientId, Guid planId, StopAutopay command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<Autopay>(AutopayRules.IdOf(planId), ct);
        var autopay = stream.Aggregate is { } a && a.PatientId == patientId ? a : null;
        var outcome = AutopayRules.Stop(autopay, command, clock.GetUtcNow());
        outcome.AppendTo(session, stream.Writing());
        return outcome.ToResult();
    }
}

/// <summary>
/// Charges the instalments of every clinic's autopay plans when they fall due: every node checks now and then
/// (<c>Autopay:CheckSeconds</c>, an hour by default). A charge goes through the processor's library, off-session, with an
/// idempotency key made from the plan, the instalment and the attempt, so two nodes (or two checks) make one charge; the
/// payment is recorded as any card payment (one per PaymentIntent). A declined card is tried again 3 days later, 3 times, then
/// the instalment is missed. A processor that does not answer is tried at the next check, with nothing recorded.
/// </summary>
public sealed class AutopayService(
    IServiceProvider services, Clinics clinics, ClinicZones zones, CardProcessor processor, IConfiguration configuration, TimeProvider clock,
    ILogger<AutopayService> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicCheck.RunAsync(PeriodicCheck.Every(configuration, "Autopay:CheckSeconds", 3600), clock, logger, "autopay", ct => CheckAsync(ct), stoppingToken);

    /// <summary>Charges what is due today in every clinic; returns how many attempts were made.</summary>
    /// <param name="asOf">The clinics' day to check as: today when left out (the tests walk the retry days with it).</param>
    public async Task<int> CheckAsync(CancellationToken ct, DateOnly? asOf = null)
    {
        var store = services.GetRequiredService<IDocumentStore>();
        var attempts = 0;
        foreach (var clinic in await clinics.ListAsync(ct))
        {
            if (processor.ClientOf(clinic.Id) is not { } client) continue;
            var zone = await zones.ZoneOfAsync(clinic.Id, ct);
            var today = asOf ?? DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(clock.GetUtcNow(), zone).DateTime);
            IReadOnlyList<Autopay> active;
            await using (var query = store.QuerySession(clinic.Id)) active = await query.Query<Autopay>().Where(a => a.Active).ToListAsync(ct);
            foreach (var autopay in active)
            {
                IReadOnlyList<DueCharge> due;
                await using (var query = store.QuerySession(clinic.Id))
                {
                    if (await query.LoadAsync<PatientAccount>(autopay.PatientId, ct) is not { } account) continue;
                    due = AutopayRules.Due(autopay, account, today);
                }

                foreach (var charge in due)
                {
                    attempts++;
                    if (!await ChargeAsync(store, client, clinic.Id, autopay, charge, today, ct)) break;
                }
            }
        }

        return attempts;
    }

    /// <returns>False when the processor did not answer (the plan's other instalments wait for the next check).</returns>
    private async Task<bool> ChargeAsync(IDocumentStore store, IStripeClient client, string clinic, Autopay autopay, DueCharge charge, DateOnly today, CancellationToken ct)
    {
        var metadata = new Dictionary<string, string>
        {
            ["clinic"] = clinic, ["patientId"] = autopay.PatientId.ToString(), ["planId"] = autopay.PlanId.ToString(), ["instalment"] = charge.Instalment.ToString(Fmt.Clinic)
        };
        PaymentIntent? intent = null;
        string? declined = null;
        try
        {
            intent = await new PaymentIntentService(client).CreateAsync(new PaymentIntentCreateOptions
            {
                Amount = CardProcessor.Cents(charge.Amount), Currency = "usd", Customer = autopay.CustomerId, PaymentMethod = autopay.PaymentMethodId,
                OffSession = true, Confirm = true, Metadata = metadata, Description = $"Payment plan instalment {charge.Instalment}"
            }, new RequestOptions { IdempotencyKey = $"autopay-{autopay.Id:N}-{charge.Instalment}-{charge.Attempt}" }, ct);
            if (intent.Status != "succeeded") declined = intent.Status == "requires_action" ? "authentication_required" : intent.Status;
        }
        catch (StripeException e) when (e.StripeError?.Type == "card_error")
        {
            declined = e.StripeError.DeclineCode ?? e.StripeError.Code ?? "card_declined";
            intent = e.StripeError.PaymentIntent;
        }
        catch (Exception e) when (e is StripeException or HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            logger.LogWarning("The processor did not answer autopay {AutopayId}'s charge of instalment {Instalment}: {Reason}; tried at the next check",
                autopay.Id, charge.Instalment, e.GetType().Name);
            return false;
        }

        await using var session = store.LightweightSession(clinic);
        var stream = await session.Events.FetchForWriting<Autopay>(autopay.Id, ct);
        if (stream.Aggregate is not { } current || AutopayRules.Recorded(current, charge)) return true;
        var now = clock.GetUtcNow();
        if (declined is not null)
        {
            var failed = AutopayRules.Failed(current, charge, declined, today, now);
            stream.AppendOne(failed);
            logger.LogInformation("Autopay {AutopayId}: instalment {Instalment} declined ({Reason}), attempt {Attempt}{Next}", autopay.Id, charge.Instalment, declined,
                charge.Attempt, failed.NextAttemptOn is { } next ? $", tried again {next:yyyy-MM-dd}" : ": missed");
        }
        else
        {
            var result = await ProcessorWebhook.PaidAsync(session, intent!.Id, intent.AmountReceived, metadata, today, now, ct);
            if (result.StartsWith("ignored", StringComparison.Ordinal) || result.StartsWith("refused", StringComparison.Ordinal))
            {
                logger.LogWarning("Autopay {AutopayId}: the charge {PaymentIntentId} was not recorded on the account: {Result}", autopay.Id, intent.Id, result);
                return true;
            }

            stream.AppendOne(new AutopayCharged(autopay.Id, autopay.PatientId, autopay.PlanId, charge.Instalment, charge.Attempt, intent.Id,
                CardProcessor.PaymentIdOf(intent.Id), CardProcessor.Dollars(intent.AmountReceived), today, now));
        }

        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (Exception e) when (DecideAgainMiddleware.LostRace(e))
        {
            // Another node recorded this attempt (the same charge, by the idempotency key) at the same moment.
        }

        return true;
    }
}
