using Alba;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using static KetamineBilling.Tests.Infrastructure.Remittance835Builder;

namespace KetamineBilling.Tests.Features.Reconciliation;

public class deposit_reconciliation(AppFixture fixture) : IntegrationContext(fixture)
{
    [Fact]
    public async Task deposits_match_card_batches_remittances_and_named_receipts_and_the_rest_are_exceptions()
    {
        var today = Fixture.Host.Services.GetRequiredService<ClinicCalendar>().Today();
        var ines = await Fixture.RegisteredPatient("Ines", "Aldana");
        var tobias = await Fixture.RegisteredPatient("Tobias", "Reinholt");
        async Task Pay(Guid patient, string method, decimal amount, int daysAgo) =>
            await Fixture.Post<PaymentResult>($"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), method, amount, today.AddDays(-daysAgo), null));
        await Pay(ines, "card", 200m, 3);
        await Pay(tobias, "card", 150m, 3);     // the card batch of three days ago: 350.00
        await Pay(tobias, "fsa", 100m, 2);      // FSA cards settle with the card batch: 100.00
        await Pay(ines, "cash", 80m, 10);       // cash takings ten days ago, never banked
        await Fixture.Payer("Blue Prairie Health", "BPH01");
        await Fixture.Call(As.Billing, s =>
        {
            s.Post.Text(Build("CHK555001", "BLUE PRAIRIE HEALTH", "BPH01", 400m, today.AddDays(-1), [
                new Clp("KB-NOT-OURS-1", "1", 510m, 400m, 0m, new Svc("96365", 450m, 400m, today.AddDays(-30), null, ("CO", "45", 50m)), new Svc("J3490", 60m, 0m, today.AddDays(-30), null, ("CO", "45", 60m)))
            ])).ToUrl("/api/remittances");
            s.StatusCodeShouldBeOk();
        });

        var undeposited = (await Fixture.GetCaughtUp<ExceptionPage>("/api/reconciliation/exceptions?type=undeposited-receipt")).Items;
        Assert.Equal(($"cash-check-batch:{today.AddDays(-10):yyyy-MM-dd}", 80m, 10), (undeposited.Single().Key.Split(':', 2)[1], undeposited.Single().Amount, undeposited.Single().AgeDays));

        // The merchant settlement: the one card batch of the days before it with that amount.
        var settlement = new RecordDeposit(Guid.NewGuid(), 350m, today.AddDays(-1), "MERCHANT SETTLEMENT 0042");
        var card = await Fixture.Post<DepositView>("/api/deposits", settlement);
        Assert.True(card.Matched && card.Automatic);
        Assert.Equal($"card-batch:{today.AddDays(-3):yyyy-MM-dd}", card.Receipts.Single().Key);
        var replay = await Fixture.Post<DepositView>("/api/deposits", settlement, 200);
        Assert.Equal((card.Id, card.Receipts.Single()), (replay.Id, replay.Receipts.Single()));
        await Fixture.Post<ProblemDetails>("/api/deposits", settlement with { Amount = 351m }, 409);

        // The payer's EFT: its trace number is on the bank line.
        var eft = await Fixture.Post<DepositView>("/api/deposits", new RecordDeposit(Guid.NewGuid(), 400m, today, "ACH BLUE PRAIRIE CHK555001"));
        Assert.Equal(("remittance", "CHK555001"), (eft.Receipts.Single().Kind, eft.Receipts.Single().Reference));

        // A deposit made of two receipts is not guessed: billing names them.
        var mixed = await Fixture.Post<DepositView>("/api/deposits", new RecordDeposit(Guid.NewGuid(), 180m, today, "BRANCH DEPOSIT"));
        Assert.False(mixed.Matched);
        var unmatched = (await Fixture.GetCaughtUp<ExceptionPage>("/api/reconciliation/exceptions?type=unmatched-deposit")).Items.Single();
        Assert.Equal((mixed.Id.ToString(), 180m), (unmatched.Key.Split(':', 2)[1], unmatched.Amount));
        var workspace = await Fixture.GetCaughtUp<DepositWorkspace>("/api/deposits/workspace");
        Assert.Equal([$"card-batch:{today.AddDays(-2):yyyy-MM-dd}", $"cash-check-batch:{today.AddDays(-10):yyyy-MM-dd}"],
            workspace.UndepositedReceipts.Select(r => r.Key).Order(StringComparer.Ordinal));

        var cashKey = $"cash-check-batch:{today.AddDays(-10):yyyy-MM-dd}";
        var fsaKey = $"card-batch:{today.AddDays(-2):yyyy-MM-dd}";
        var short80 = await Fixture.Post<ValidationProblemDetails>($"/api/deposits/{mixed.Id}/matches", new MatchDeposit([cashKey]), 422);
        Assert.Contains("80.00", short80.Errors["receiptKeys"].Single());
        await Fixture.Post<ValidationProblemDetails>($"/api/deposits/{mixed.Id}/matches", new MatchDeposit([cashKey, card.Receipts.Single().Key]), 422);
        var matched = await Fixture.Post<DepositView>($"/api/deposits/{mixed.Id}/matches", new MatchDeposit([cashKey, fsaKey]), 200);
        Assert.Equal((true, false, 180m), (matched.Matched, matched.Automatic, matched.Receipts.Sum(r => r.Amount)));
        await Fixture.Post<DepositView>($"/api/deposits/{mixed.Id}/matches", new MatchDeposit([fsaKey, cashKey]), 200);
        await Fixture.Post<ProblemDetails>($"/api/deposits/{mixed.Id}/matches", new MatchDeposit([fsaKey]), 409);

        var summary = await Fixture.GetCaughtUp<List<ExceptionSummary>>("/api/reconciliation/exceptions/summary");
        Assert.DoesNotContain(summary, s => s.Type is "unmatched-deposit" or "undeposited-receipt" or "deposit-mismatch");
        Assert.Empty((await Fixture.GetCaughtUp<DepositWorkspace>("/api/deposits/workspace")).UndepositedReceipts);

        // A card payment recorded late for a day already banked: the settlement no longer matches the books.
        await Pay(ines, "card", 25m, 3);
        var mismatch = (await Fixture.GetCaughtUp<ExceptionPage>("/api/reconciliation/exceptions?type=deposit-mismatch")).Items.Single();
        Assert.Equal(($"deposit-mismatch:{card.Id}", 25m), (mismatch.Key, mismatch.Amount));
    }

    [Fact]
    public async Task a_bad_deposit_is_refused_naming_each_field()
    {
        var problem = await Fixture.Post<ValidationProblemDetails>("/api/deposits", new RecordDeposit(Guid.Empty, -5m, null, null), 400);
        Assert.Equal(["amount", "depositId", "depositedOn"], problem.Errors.Keys.Order(StringComparer.Ordinal));
        await Fixture.Post<ProblemDetails>($"/api/deposits/{Guid.NewGuid()}/matches", new MatchDeposit(["card-batch:2026-01-01"]), 404);
        await Fixture.Call(As.Finance, s =>
        {
            s.Post.Json(new RecordDeposit(Guid.NewGuid(), 10m, new DateOnly(2026, 1, 1), null)).ToUrl("/api/deposits");
            s.StatusCodeShouldBe(403);
        });
    }

    [Fact]
    public async Task two_deposits_cannot_both_take_the_same_receipt()
    {
        var receipt = new ReceiptMatch("card-batch:2026-11-02", "card-batch", "card takings 2026-11-02", 350m);
        var first = Guid.NewGuid();
        var second = Guid.NewGuid();
        await using (var write = Store.LightweightSession(AppFixture.Clinic))
        {
            write.Events.StartStream<BankDeposit>(first, new DepositRecorded(first, 350m, new DateOnly(2026, 11, 3), "A", DateTimeOffset.UtcNow),
                new DepositMatched(first, [receipt], true, DateTimeOffset.UtcNow));
            await write.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        // The second deposit, decided at the same moment from the same (stale) view of what is undeposited.
        await using var late = Store.LightweightSession(AppFixture.Clinic);
        late.Events.StartStream<BankDeposit>(second, new DepositRecorded(second, 350m, new DateOnly(2026, 11, 3), "B", DateTimeOffset.UtcNow),
            new DepositMatched(second, [receipt], true, DateTimeOffset.UtcNow));
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => late.SaveChangesAsync(TestContext.Current.CancellationToken));
        Assert.True(KetamineBilling.Infrastructure.ProblemExceptionHandler.Classify(failure).Status == 409, failure.ToString());
        await using var query = Store.QuerySession(AppFixture.Clinic);
        Assert.Null(await query.LoadAsync<BankDeposit>(second, TestContext.Current.CancellationToken));
    }
}
