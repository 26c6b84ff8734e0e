using KetamineBilling.Features.Clinic;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Features.Ui;
using Event = Stripe.Event;
using JasperFx.Events;
using Marten;
using Stripe;
using Stripe.Checkout;

namespace KetamineBilling.Features.PatientBilling;

/// <summary>
/// The processor's webhooks for one clinic (<c>POST /webhooks/stripe/{clinic}</c>, no sign-in): each event is verified with the
/// official library against the clinic's webhook secret (signature and a 5-minute window), and taken in once by its id. A paid
/// Checkout session or a succeeded PaymentIntent becomes the card payment on the patient's account (one payment per PaymentIntent,
/// however many events report it); a refund, a dispute and its close change it; a paid payout is recorded with its balance
/// transactions (listed through the library) as the receipt its bank deposit matches. Other events are recorded as seen and ignored.
/// </summary>
public static class ProcessorWebhook
{
    public const long MaxBodyBytes = 256 * 1024;

    public static void MapProcessorWebhooks(this WebApplication app) =>
        app.MapPost("/webhooks/stripe/{clinic}", async (string clinic, HttpContext http, CardProcessor processor, IDocumentStore store, ClinicZones zones,
            TimeProvider clock, ILogger<CardProcessor> logger, CancellationToken ct) =>
        {
            if (processor.WebhookSecretOf(clinic) is not { } secret)
                return Problems.NotFound($"clinic: '{clinic}' takes no card payments through a processor here");
            string json;
            using (var reader = new StreamReader(http.Request.Body, System.Text.Encoding.UTF8)) json = await reader.ReadToEndAsync(ct);
            Event evt;
            try
            {
                evt = EventUtility.ConstructEvent(json, http.Request.Headers["Stripe-Signature"].ToString(), secret, EventUtility.DefaultTimeTolerance,
                    clock.GetUtcNow().ToUnixTimeSeconds(), throwOnApiVersionMismatch: false);
            }
            catch (StripeException e)
            {
                logger.LogWarning("A processor webhook for clinic {Clinic} was refused: {Reason}", clinic, e.Message);
                return Problems.Invalid("Stripe-Signature", "must be the processor's valid signature of this body, made within the last 5 minutes", StatusCodes.Status400BadRequest);
            }

            IDocumentSession session;
            try
            {
                session = store.LightweightSession(clinic);
            }
            catch (Exception e) when (e is JasperFx.MultiTenancy.UnknownTenantIdException or JasperFx.MultiTenancy.DisabledTenantException)
            {
                return Problems.NotFound($"clinic: '{clinic}' is not a clinic of this platform");
            }

            var zone = await zones.ZoneOfAsync(clinic, ct);
            IReadOnlyList<BalanceTransaction>? payoutLines = null;
            SetupIntent? setup = null;
            for (var attempt = 1; ; attempt++)
            {
                await using (session)
                {
                    if (await session.LoadAsync<ProcessorEventRecord>(evt.Id, ct) is { } seen) return Results.Ok(new { evt.Id, duplicate = true, seen.Result });
                    if (evt.Type == EventTypes.PayoutPaid && evt.Data.Object is Payout payout && payoutLines is null)
                    {
                        // What the payout is made of, asked of the processor through the library. Unanswered: nothing is recorded,
                        // and the processor delivers the event again later (it retries what was not answered 2xx).
                        try
                        {
                            payoutLines = await Payouts.TransactionsAsync(processor.ClientOf(clinic)!, payout.Id, ct);
                        }
                        catch (StripeException e)
                        {
                            logger.LogWarning("The processor did not list payout {PayoutId}'s transactions for clinic {Clinic}: {Status}", payout.Id, clinic, e.HttpStatusCode);
                            return Problems.Unavailable($"the processor did not list payout {payout.Id}'s transactions; nothing was recorded: deliver the event again");
                        }
                    }

                    if (evt.Type == EventTypes.CheckoutSessionCompleted && evt.Data.Object is Session { Mode: "setup", SetupIntentId: { Length: > 0 } setupId } && setup is null)
                    {
                        // The card the patient saved: asked of the processor (the event carries only the SetupIntent's id).
                        try
                        {
                            setup = await new SetupIntentService(processor.ClientOf(clinic)!).GetAsync(setupId, new SetupIntentGetOptions { Expand = ["payment_method"] },
                                cancellationToken: ct);
                        }
                        catch (StripeException e)
                        {
                            logger.LogWarning("The processor did not answer for SetupIntent {SetupIntentId} of clinic {Clinic}: {Status}", setupId, clinic, e.HttpStatusCode);
                            return Problems.Unavailable($"the processor did not answer for SetupIntent {setupId}; nothing was recorded: deliver the event again");
                        }
                    }

                    var result = await TakeInAsync(session, evt, zone, payoutLines, setup, clock.GetUtcNow(), ct);
                    session.Insert(new ProcessorEventRecord { Id = evt.Id, Type = evt.Type, ReceivedAt = clock.GetUtcNow(), Result = result });
                    try
                    {
                        await session.SaveChangesAsync(ct);
                        logger.LogInformation("Processor event {EventId} ({Type}) for clinic {Clinic}: {Result}", evt.Id, evt.Type, clinic, result);
                        return Results.Ok(new { evt.Id, duplicate = false, result });
                    }
                    // The same event delivered twice at once, or the account changed by someone else meanwhile: decided again.
                    catch (Exception e) when (attempt < 5 && DecideAgainMiddleware.LostRace(e))
                    {
                    }
                }

                session = store.LightweightSession(clinic);
            }
        }).AllowAnonymous().WithMetadata(new AnonymousBodyLimit(MaxBodyBytes)).ExcludeFromDescription();

    private static async Task<string> TakeInAsync(
        IDocumentSession session, Event evt, TimeZoneInfo zone, IReadOnlyList<BalanceTransaction>? payoutLines, SetupIntent? setup, DateTimeOffset now,
        CancellationToken ct)
    {
        var on = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(new DateTimeOffset(evt.Created, TimeSpan.Zero), zone).DateTime);
        return evt.Data.Object switch
        {
            Session { Mode: "setup", Status: "complete" } s when evt.Type == EventTypes.CheckoutSessionCompleted && setup is not null =>
                await AutopayEnrolledAsync(session, s, setup, on, now, ct),
            Session { PaymentStatus: "paid" } s when evt.Type is EventTypes.CheckoutSessionCompleted or EventTypes.CheckoutSessionAsyncPaymentSucceeded =>
                await PaidAsync(session, s.PaymentIntentId, s.AmountTotal ?? 0, s.Metadata, on, now, ct),
            PaymentIntent pi when evt.Type == EventTypes.PaymentIntentSucceeded =>
                await PaidAsync(session, pi.Id, pi.AmountReceived, pi.Metadata, on, now, ct),
            Charge c when evt.Type == EventTypes.ChargeRefunded => await RefundedAsync(session, c, on, now, ct),
            Dispute d when evt.Type == EventTypes.ChargeDisputeCreated => await DisputedAsync(session, d, zone, on, now, ct),
            Dispute d when evt.Type == EventTypes.ChargeDisputeClosed => await DisputeClosedAsync(session, d, on, now, ct),
            Payout p when evt.Type == EventTypes.PayoutPaid => await PayoutPaidAsync(session, p, payoutLines ?? [], now, ct),
            _ => "ignored: not an event the platform acts on"
        };
    }

    private static string Refused(Outcome.Rejected rejected) =>
        $"refused: {rejected.Detail ?? string.Join("; ", rejected.Errors.SelectMany(e => e.Value.Select(v => $"{e.Key} {v}")))}";

    /// <summary>
    /// A card payment the processor took (from its webhook, or an autopay charge's answer): recorded once per PaymentIntent on the
    /// patient its metadata names, with its <see cref="CardPayment"/> stream. What it did, as the webhook reports it.
    /// </summary>
    internal static async Task<string> PaidAsync(
        IDocumentSession session, string? paymentIntentId, long cents, IDictionary<string, string>? metadata, DateOnly receivedOn, DateTimeOffset now, CancellationToken ct)
    {
        if (paymentIntentId is not { Length: > 0 }) return "ignored: no PaymentIntent";
        if (metadata?.TryGetValue("patientId", out var named) != true || !Guid.TryParse(named, out var patientId)) return "ignored: names no patient of the platform";
        if (cents <= 0) return "ignored: nothing was paid";
        var stream = await session.Events.FetchForWriting<PatientAccount>(patientId, ct);
        if (stream.Aggregate is not { } account) return $"ignored: patient {patientId} is not on this clinic's books";
        var paymentId = CardProcessor.PaymentIdOf(paymentIntentId);
        var owner = await session.LoadAsync<PaymentOwner>(paymentId, ct);
        var amount = CardProcessor.Dollars(cents);
        var outcome = ProcessorOnAccount.Paid(account, paymentId, amount, receivedOn, $"card {paymentIntentId}", now, owner);
        switch (outcome)
        {
            case Outcome.Replayed:
                return $"already recorded: payment {paymentId}";
            case Outcome.Rejected rejected:
                return Refused(rejected);
        }

        outcome.AppendTo(session, stream.Writing());
        session.Events.StartStream<CardPayment>(paymentId, new CardPaymentTaken(paymentId, paymentIntentId, patientId,
            metadata.TryGetValue("statementId", out var s) && Guid.TryParse(s, out var statementId) ? statementId : null, amount, receivedOn, now));
        return $"recorded: card payment {paymentId} of {Fmt.Money(amount)}";
    }

    /// <summary>The card payment a PaymentIntent is, with its patient's account fetched for writing.</summary>
    private static async Task<(CardPayment Card, IEventStream<CardPayment> CardStream, IEventStream<PatientAccount> Account)?> CardAsync(
        IDocumentSession session, string? paymentIntentId, CancellationToken ct)
    {
        if (paymentIntentId is not { Length: > 0 }) return null;
        var cardStream = await session.Events.FetchForWriting<CardPayment>(CardProcessor.PaymentIdOf(paymentIntentId), ct);
        if (cardStream.Aggregate is not { } card) return null;
        var account = await session.Events.FetchForWriting<PatientAccount>(card.PatientId, ct);
        return account.Aggregate is null ? null : (card, cardStream, account);
    }

    private static async Task<string> RefundedAsync(IDocumentSession session, Charge charge, DateOnly on, DateTimeOffset now, CancellationToken ct)
    {
        if (await CardAsync(session, charge.PaymentIntentId, ct) is not var (card, cardStream, account)) return "ignored: not a card payment recorded here";
        var total = CardProcessor.Dollars(charge.AmountRefunded);
        var amount = total - card.Refunded;
        if (amount <= 0) return $"already recorded: {Fmt.Money(total)} refunded";
        var refundId = CardProcessor.PaymentIdOf($"{charge.PaymentIntentId}|refunded|{charge.AmountRefunded}");
        var outcome = ProcessorOnAccount.Refunded(account.Aggregate!, card.Id, refundId, amount, $"Refunded to the card through the processor ({charge.Id})", now);
        if (outcome is Outcome.Rejected rejected) return Refused(rejected);
        outcome.AppendTo(session, account.Writing());
        cardStream.AppendOne(new CardPaymentRefunded(card.Id, card.PatientId, refundId, amount, total, on, now));
        return $"recorded: {Fmt.Money(amount)} refunded of card payment {card.Id}";
    }

    private static async Task<string> DisputedAsync(IDocumentSession session, Dispute dispute, TimeZoneInfo zone, DateOnly on, DateTimeOffset now, CancellationToken ct)
    {
        if (await CardAsync(session, dispute.PaymentIntentId, ct) is not var (card, cardStream, account)) return "ignored: not a card payment recorded here";
        if (card.DisputeId == dispute.Id) return $"already recorded: dispute {dispute.Id}";
        var reason = $"Card dispute {dispute.Id} ({dispute.Reason?.Replace('_', ' ') ?? "no reason given"}) opened by the cardholder's bank";
        var outcome = ProcessorOnAccount.Disputed(account.Aggregate!, card.Id, reason, on, now);
        if (outcome is Outcome.Rejected rejected) return Refused(rejected);
        outcome.AppendTo(session, account.Writing());
        var dueBy = dispute.EvidenceDetails?.DueBy is { } due ? DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(due, DateTimeKind.Utc), zone)) : (DateOnly?)null;
        cardStream.AppendOne(new CardPaymentDisputed(card.Id, card.PatientId, dispute.Id, CardProcessor.Dollars(dispute.Amount), dispute.Reason ?? "", on, dueBy, now));
        return $"recorded: card payment {card.Id} reversed by dispute {dispute.Id}";
    }

    private static async Task<string> PayoutPaidAsync(IDocumentSession session, Payout payout, IReadOnlyList<BalanceTransaction> lines, DateTimeOffset now, CancellationToken ct)
    {
        // The arrival date is a day at midnight UTC in the processor's answer: the bank's day, not a moment to convert.
        if (Payouts.Paid(payout.Id, payout.Amount, DateOnly.FromDateTime(payout.ArrivalDate), lines, now) is not { } paid) return "ignored: nothing was paid out";
        if (await session.Events.FetchStreamStateAsync(paid.PayoutId, ct) is not null) return $"already recorded: payout {payout.Id}";
        session.Events.StartStream<ProcessorPayout>(paid.PayoutId, paid);
        return $"recorded: payout {payout.Id} of {Fmt.Money(paid.Net)} ({Fmt.Money(paid.Gross)} less {Fmt.Money(paid.Fees)} fees, {paid.Lines.Count} transactions)";
    }

    private static async Task<string> AutopayEnrolledAsync(IDocumentSession session, Session checkout, SetupIntent setup, DateOnly on, DateTimeOffset now, CancellationToken ct)
    {
        var metadata = checkout.Metadata ?? new Dictionary<string, string>();
        if (!metadata.TryGetValue("patientId", out var p) || !Guid.TryParse(p, out var patientId) || !metadata.TryGetValue("planId", out var pl) || !Guid.TryParse(pl, out var planId))
            return "ignored: names no payment plan of the platform";
        if (setup.Status != "succeeded" || setup.PaymentMethodId is not { Length: > 0 } method) return $"ignored: the card was not saved ({setup.Status})";
        if (await session.LoadAsync<PatientAccount>(patientId, ct) is not { } account || account.Plans.All(x => x.PlanId != planId))
            return $"ignored: plan {planId} is not on this clinic's books";
        var id = AutopayRules.IdOf(planId);
        var stream = await session.Events.FetchForWriting<Autopay>(id, ct);
        if (stream.Aggregate is { Active: true } current && current.PaymentMethodId == method) return $"already recorded: autopay of plan {planId}";
        var card = setup.PaymentMethod?.Card;
        stream.AppendOne(new AutopayEnrolled(id, patientId, planId, checkout.CustomerId ?? setup.CustomerId, method, card?.Brand, card?.Last4, on, now));
        return $"recorded: autopay of plan {planId} on the card ending {card?.Last4 ?? "?"}";
    }

    private static async Task<string> DisputeClosedAsync(IDocumentSession session, Dispute dispute, DateOnly on, DateTimeOffset now, CancellationToken ct)
    {
        if (await CardAsync(session, dispute.PaymentIntentId, ct) is not var (card, cardStream, account)) return "ignored: not a card payment recorded here";
        if (card.DisputeId != dispute.Id) return $"ignored: dispute {dispute.Id} was never recorded as opened";
        if (card.Dispute is not DisputeState.Open) return $"already recorded: dispute {dispute.Id} closed";
        var won = dispute.Status == "won";
        Guid? wonBack = null;
        if (won)
        {
            wonBack = CardProcessor.PaymentIdOf($"{dispute.Id}|won");
            var owner = await session.LoadAsync<PaymentOwner>(wonBack.Value, ct);
            var outcome = ProcessorOnAccount.Paid(account.Aggregate!, wonBack.Value, CardProcessor.Dollars(dispute.Amount), on, $"card dispute {dispute.Id} won", now, owner);
            if (outcome is Outcome.Rejected rejected) return Refused(rejected);
            outcome.AppendTo(session, account.Writing());
        }

        cardStream.AppendOne(new CardDisputeClosed(card.Id, card.PatientId, dispute.Id, won, wonBack, on, now));
        return won ? $"recorded: dispute {dispute.Id} won, {Fmt.Money(CardProcessor.Dollars(dispute.Amount))} back as payment {wonBack}" : $"recorded: dispute {dispute.Id} lost";
    }
}
