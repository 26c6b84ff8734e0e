using Alba;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Clearinghouse;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static KetamineBilling.Tests.Infrastructure.Remittance835Builder;

namespace KetamineBilling.Tests.Features.Claims;

/// <summary>
/// The clearinghouse drop folder (issue 19, ADR 0021): batches and status requests go to the clinic's outbox, answers put in
/// its inbox are imported as uploads are, a file that cannot be is put aside with its reason, and each clinic has its own.
/// </summary>
public class exchanging_files_with_the_clearinghouse(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));
    private Guid _patient;
    private Guid _payer;
    private readonly List<Guid> _sessions = [];

    private string Outbox(string clinic = AppFixture.Clinic) => Path.Combine(Fixture.ClearinghouseFolder, clinic, "outbox");
    private string Inbox(string clinic = AppFixture.Clinic) => Path.Combine(Fixture.ClearinghouseFolder, clinic, "inbox");

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.PricedCode("96365", 450m, description: "IV infusion, initial hour");
        _patient = await Fixture.RegisteredPatient("Oriel", "Vantongeren", new DateOnly(1979, 4, 12));
        _payer = await Fixture.Payer();
        await Fixture.Coverage(_patient, _payer);
        for (var i = 0; i < 2; i++)
        {
            _sessions.Add((await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(_patient,
                Scenarios.Session(deliveredOn: Today.AddDays(-20 + i)) with { Funding = ["insurance"] }))).SessionId);
        }
    }

    private async Task<ExchangeResult> Exchange() => await Fixture.Post<ExchangeResult>("/api/clearinghouse/exchange", new { }, 200);

    private async Task<(ClaimView Claim, int Batch)> FiledAndBatched(int session)
    {
        var claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), _patient, _payer, [_sessions[session]]));
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new ExportClaimBatch([claim.Id], Guid.NewGuid())).ToUrl("/api/claim-batches");
            s.StatusCodeShouldBeOk();
        });
        return (claim, int.Parse(X12Reader.Read(await result.ReadAsTextAsync()).ControlNumber));
    }

    private void Drop(string name, string content, string clinic = AppFixture.Clinic)
    {
        Directory.CreateDirectory(Inbox(clinic));
        File.WriteAllText(Path.Combine(Inbox(clinic), name), content);
    }

    [Fact]
    public async Task a_batch_goes_to_the_outbox_once_and_the_answers_put_in_the_inbox_reject_acknowledge_and_pay_its_claims()
    {
        var (claim, batch) = await FiledAndBatched(0);
        var status = await Fixture.Get<ClearinghouseStatus>("/api/clearinghouse");
        Assert.Equal((true, 1), (status.Enabled, status.Queued));
        Assert.EndsWith(Path.Combine(AppFixture.Clinic), status.Location);

        Assert.Equal(1, (await Exchange()).Sent);
        var sent = Path.Combine(Outbox(), $"837P-{batch:D9}.x12");
        Assert.True(File.Exists(sent));
        Assert.Contains($"CLM*{claim.ControlNumber}*", File.ReadAllText(sent));
        // The sync took it away: the next exchange does not send it again.
        File.Delete(sent);
        Assert.Equal(0, (await Exchange()).Sent);
        Assert.Empty(Directory.GetFiles(Outbox()));

        // The 277CA accepts it with the payer's number, the 835 pays it; the same 277CA sent twice is imported once.
        Drop("a-claims.277", AckBuilder.Ack277Ca(5101, (claim.ControlNumber, 450m, "A2:20:PR", "2026339000111")));
        Drop("b-copy-of-claims.277", AckBuilder.Ack277Ca(5101, (claim.ControlNumber, 450m, "A2:20:PR", "2026339000111")));
        Drop("c-era.835", Build("TRACE-CH-0001", "BLUE PRAIRIE HEALTH", "BPH01", 300m, Today, [
            new Clp(claim.ControlNumber, "1", 450m, 300m, 0m, new Svc("96365", 450m, 300m, Today.AddDays(-20), null, ("CO", "45", 150m)))
        ]));
        var result = await Exchange();

        Assert.Equal((3, 0, 0), (result.Imported, result.Failed, result.Waiting));
        Assert.Empty(Directory.GetFiles(Inbox()));
        Assert.Equal(3, Directory.GetFiles(Path.Combine(Inbox(), "processed")).Length);
        var paid = await Fixture.Get<ClaimView>($"/api/claims/{claim.Id}");
        // The 835's CLP07 is the payer's number from then on.
        Assert.Equal(("paid", $"PCN{claim.ControlNumber[^6..]}"), (paid.Status, paid.PayerClaimNumber));
        Assert.Contains(paid.History, h => h.What.Contains("2026339000111"));
        var files = (await Fixture.Get<ClearinghouseStatus>("/api/clearinghouse")).Files;
        Assert.Equal(["imported", "duplicate", "imported"], files.Where(f => f.Direction == "inbound").OrderBy(f => f.Name).Select(f => f.Status));
        Assert.Contains(files, f => f is { Direction: "inbound", Kind: "835" } && f.Detail.StartsWith("1 check(s): 1 claim payment(s) posted, $300.00 paid"));
        Assert.Contains(files, f => f is { Direction: "outbound", Kind: "837P", Status: "sent" } && f.Name == $"837P-{batch:D9}.x12");
        var listed = await Fixture.Get<AcknowledgmentPage>("/api/claim-acknowledgments");
        await using var query = Store.QuerySession(AppFixture.Clinic);
        Assert.Equal("clearinghouse", (await query.LoadAsync<ClaimAcknowledgmentFile>(listed.Items[0].Id, TestContext.Current.CancellationToken))!.ReceivedBy);
    }

    [Fact]
    public async Task a_file_that_cannot_be_imported_is_put_aside_with_its_reason_and_a_999_rejecting_the_batch_frees_the_sessions()
    {
        var (claim, batch) = await FiledAndBatched(1);
        Drop("noise.txt", "this is not an X12 interchange");
        Drop("unbalanced.835", Build("TRACE-CH-0002", "BLUE PRAIRIE HEALTH", "BPH01", 999m, Today, [
            new Clp(claim.ControlNumber, "1", 450m, 300m, 0m, new Svc("96365", 450m, 300m, Today.AddDays(-19), null, ("CO", "45", 150m)))
        ]));
        Drop("rejected.999", AckBuilder.Ack999(batch, accepted: false, claim.ControlNumber));
        Drop(".still-syncing.999", "partial");

        var result = await Exchange();

        Assert.Equal((1, 2), (result.Imported, result.Failed));
        Assert.Equal([".still-syncing.999"], Directory.GetFiles(Inbox()).Select(Path.GetFileName));
        var failed = Path.Combine(Inbox(), "failed");
        Assert.Contains("is not a readable X12 interchange", File.ReadAllText(Path.Combine(failed, "noise.txt.reason.txt")));
        Assert.Contains("BPR02: of trace TRACE-CH-0002 is $999.00", File.ReadAllText(Path.Combine(failed, "unbalanced.835.reason.txt")));
        Assert.True(File.Exists(Path.Combine(failed, "unbalanced.835")));
        Assert.Equal("rejected", (await Fixture.Get<ClaimView>($"/api/claims/{claim.Id}")).Status);
        var files = (await Fixture.Get<ClearinghouseStatus>("/api/clearinghouse")).Files;
        Assert.Equal(2, files.Count(f => f.Status == "failed"));
        Assert.Contains(files, f => f is { Name: "rejected.999", Kind: "999", Status: "imported" } && f.Detail.Contains("1 rejected"));
    }

    [Fact]
    public async Task status_requests_go_out_as_276s_and_each_clinic_exchanges_its_own_folder()
    {
        var (claim, _) = await FiledAndBatched(0);
        var request = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new RequestClaimStatus(Guid.NewGuid(), OlderThanDays: 0)).ToUrl("/api/claim-status-requests");
            s.StatusCodeShouldBeOk();
        });
        var number = int.Parse(X12Reader.Read(await request.ReadAsTextAsync()).ControlNumber);
        // Clinic B's inbox holds an answer about clinic A's claim number: clinic B knows no such claim.
        Drop("for-b.277", AckBuilder.Ack277Ca(5301, (claim.ControlNumber, 450m, "A7:33:IL", null)), AppFixture.OtherClinic);

        var exchange = Fixture.Host.Services.GetRequiredService<ClearinghouseExchange>();
        var a = await exchange.ExchangeAsync(AppFixture.Clinic, TestContext.Current.CancellationToken);
        Assert.Equal((2, 0), (a!.Sent, a.Imported));
        Assert.True(File.Exists(Path.Combine(Outbox(), $"276-{number:D9}.x12")));
        Assert.True(File.Exists(Path.Combine(Inbox(AppFixture.OtherClinic), "for-b.277")));

        var b = await exchange.ExchangeAsync(AppFixture.OtherClinic, TestContext.Current.CancellationToken);
        Assert.Equal((0, 1), (b!.Sent, b.Imported));
        Assert.Equal("filed", (await Fixture.Get<ClaimView>($"/api/claims/{claim.Id}")).Status);
        using (Fixture.ActingFor(AppFixture.OtherClinic))
        {
            var result = Assert.Single((await Fixture.Get<AcknowledgmentPage>("/api/claim-acknowledgments")).Items).Results.Single();
            Assert.Equal("unmatched", result.Effect);
        }
    }

    [Fact]
    public async Task without_a_drop_folder_nothing_is_queued_and_the_kind_of_a_file_is_read_with_its_own_separators()
    {
        var none = new DropFolderClearinghouse(null);
        Assert.False(none.Enabled);
        Assert.Equal("", none.Describe(AppFixture.Clinic));
        // A sender named TEST in GS must not be taken for a transaction set; the separators are the file's own.
        var remittance = Build("TRACE-KIND", "BLUE PRAIRIE HEALTH", "BPH01", 0m, Today, []).Replace("GS*HP*", "GS*HP*TEST*ST*").Replace('*', '|');
        Assert.Equal("835", ClearinghouseExchange.KindOf(remittance));
        Assert.Equal("277CA", ClearinghouseExchange.KindOf(AckBuilder.Ack277Ca(1, ("KB1", 1m, "A1:19", null))));
        Assert.Equal("unknown", ClearinghouseExchange.KindOf("hello"));

        // A file a sync is still writing under its final name is left until it has settled.
        var settling = new DropFolderClearinghouse(Fixture.ClearinghouseFolder, TimeSpan.FromMinutes(5));
        Drop("just-arrived.999", "ISA");
        Assert.Empty(await settling.ReceiveAsync(AppFixture.Clinic, TestContext.Current.CancellationToken));
        Assert.Single(await new DropFolderClearinghouse(Fixture.ClearinghouseFolder).ReceiveAsync(AppFixture.Clinic, TestContext.Current.CancellationToken));
        File.Delete(Path.Combine(Inbox(), "just-arrived.999"));

        // A second exchange while one holds the clinic's lock does not run; one waiting for it runs after.
        var exchange = Fixture.Host.Services.GetRequiredService<ClearinghouseExchange>();
        await using var held = await HeldLock.AdvisoryAsync(Fixture.ConnectionString, ClearinghouseExchange.LockKey(AppFixture.Clinic));
        Assert.Null(await exchange.ExchangeAsync(AppFixture.Clinic, TestContext.Current.CancellationToken));
        var waiting = exchange.ExchangeAsync(AppFixture.Clinic, TestContext.Current.CancellationToken, wait: true);
        await held.WaitersAsync(1, waiting, "an exchange told to wait");
        await held.ReleaseAsync();
        Assert.NotNull(await waiting);
    }
}
