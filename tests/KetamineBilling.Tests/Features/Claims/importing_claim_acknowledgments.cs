using Alba;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;

namespace KetamineBilling.Tests.Features.Claims;

/// <summary>
/// 999 and 277CA acknowledgments imported (issue 19): claims rejected with the reason and their sessions freed, accepted
/// ones acknowledged with the payer's claim number, the same file twice changing nothing.
/// </summary>
public class importing_claim_acknowledgments(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));
    private Guid _patient;
    private Guid _payer;
    private readonly List<Guid> _sessions = [];

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.PricedCode("96365", 450m, description: "IV infusion, initial hour");
        _patient = await Fixture.RegisteredPatient("Ysolde", "Achterberg", new DateOnly(1988, 11, 2));
        _payer = await Fixture.Payer();
        await Fixture.Coverage(_patient, _payer);
        for (var i = 0; i < 3; i++)
        {
            _sessions.Add((await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(_patient,
                Scenarios.Session(deliveredOn: Today.AddDays(-15 + i)) with { Funding = ["insurance"] }))).SessionId);
        }
    }

    private async Task<(ClaimView Claim, int Batch)> FiledAndSent(int session)
    {
        var claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), _patient, _payer, [_sessions[session]]));
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new ExportClaimBatch([claim.Id], Guid.NewGuid())).ToUrl("/api/claim-batches");
            s.StatusCodeShouldBeOk();
        });
        return (claim, int.Parse(X12Reader.Read(await result.ReadAsTextAsync()).ControlNumber));
    }

    private async Task<(int Status, string Body)> Import(string file)
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Text(file).ToUrl("/api/claim-acknowledgments");
            s.IgnoreStatusCode();
        });
        return (result.Context.Response.StatusCode, await result.ReadAsTextAsync());
    }

    private async Task<AcknowledgmentImport> Imported(string file)
    {
        var (status, body) = await Import(file);
        Assert.True(status == 200, body);
        return System.Text.Json.JsonSerializer.Deserialize<AcknowledgmentImport>(body, System.Text.Json.JsonSerializerOptions.Web)!;
    }

    [Fact]
    public async Task a_999_rejecting_the_set_rejects_its_claims_with_the_reason_frees_their_sessions_and_the_same_file_again_changes_nothing()
    {
        var (claim, batch) = await FiledAndSent(0);

        var import = await Imported(AckBuilder.Ack999(batch, accepted: false, claim.ControlNumber));

        var result = Assert.Single(import.Results);
        Assert.Equal((claim.Id, "rejected", "999"), (result.ClaimId!.Value, result.Effect, import.Kind));
        var rejected = await Fixture.Get<ClaimView>($"/api/claims/{claim.Id}");
        Assert.Equal("rejected", rejected.Status);
        Assert.Contains(rejected.History, h => h.What.StartsWith("Rejected (999 CLRHSE001/000000873 set 0001): 999 rejected transaction set 0001: one or more segments in error; " +
                                                                 "segment DTP at position 45 (loop 2400): segment has data element errors; element 3 (1251): invalid date, value \"20250231\""));
        Assert.Empty((await Fixture.BalanceOf(_patient)).Sessions.Single(s => s.SessionId == _sessions[0]).ClaimIds!);

        var again = await Imported(AckBuilder.Ack999(batch, accepted: false, claim.ControlNumber));
        Assert.True(again.Duplicate);
        Assert.Equal(rejected.History.Count, (await Fixture.Get<ClaimView>($"/api/claims/{claim.Id}")).History.Count);
        var (status, _) = await Import(AckBuilder.Ack999(batch, accepted: true, claim.ControlNumber));
        Assert.Equal(409, status);

        // On the worklist until the session, corrected, goes on a new claim.
        var item = Assert.Single((await Fixture.GetCaughtUp<KetamineBilling.Features.Reconciliation.ExceptionPage>("/api/reconciliation/exceptions?type=claim-rejected")).Items);
        Assert.Equal(claim.Id, item.ClaimId);
        await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), _patient, _payer, [_sessions[0]]));
        Assert.Empty((await Fixture.GetCaughtUp<KetamineBilling.Features.Reconciliation.ExceptionPage>("/api/reconciliation/exceptions?type=claim-rejected")).Items);
    }

    [Fact]
    public async Task a_277ca_acknowledges_an_accepted_claim_with_the_payers_number_rejects_another_and_names_a_number_it_does_not_know()
    {
        var (accepted, batch) = await FiledAndSent(1);
        var (refused, _) = await FiledAndSent(2);
        Assert.Equal("received", Assert.Single((await Imported(AckBuilder.Ack999(batch, accepted: true, null, control: 874))).Results).Outcome);
        Assert.Equal("filed", (await Fixture.Get<ClaimView>($"/api/claims/{accepted.Id}")).Status);

        var import = await Imported(AckBuilder.Ack277Ca(4711,
            (accepted.ControlNumber, 450m, "A2:20:PR", "2026338123456"), (refused.ControlNumber, 450m, "A7:33:IL", null), ("KB000000000000000000", 99m, "A7:187", null)));

        Assert.Equal(["acknowledged", "rejected", "unmatched"], import.Results.Select(r => r.Effect));
        var acknowledged = await Fixture.Get<ClaimView>($"/api/claims/{accepted.Id}");
        Assert.Equal(("acknowledged", "2026338123456"), (acknowledged.Status, acknowledged.PayerClaimNumber));
        var rejected = await Fixture.Get<ClaimView>($"/api/claims/{refused.Id}");
        Assert.Equal("rejected", rejected.Status);
        Assert.EndsWith("277CA rejected: A7:33:IL Rejected for invalid information: Subscriber and subscriber id not found (subscriber)", rejected.History.Last().What);
        var listed = await Fixture.Get<AcknowledgmentPage>("/api/claim-acknowledgments");
        Assert.Equal(["277CA", "999"], listed.Items.Take(2).Select(i => i.Kind));
        Assert.Equal((1, 1), (listed.Items[0].Rejected, listed.Items[0].Unmatched));

        var problem = await Fixture.Post<ValidationProblemDetails>("/api/claim-acknowledgments", "not x12", 400);
        Assert.Contains("file", problem.Errors.Keys);
    }

    [Fact]
    public async Task a_276_asks_about_claims_unanswered_after_n_days_and_the_payers_277_answer_goes_into_the_claims_history()
    {
        var (asked, _) = await FiledAndSent(0);
        var request = new RequestClaimStatus(Guid.NewGuid(), OlderThanDays: 0);

        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(request).ToUrl("/api/claim-status-requests");
            s.StatusCodeShouldBeOk();
            s.ContentTypeShouldBe("text/plain; charset=us-ascii");
        });
        var file = await result.ReadAsTextAsync();

        var read = await ThirdPartyX12Reader.ReadAsync(file);
        Assert.True(read.Ok, read.Error);
        var set = Assert.Single(read.Transactions!);
        Assert.Equal(("276", "005010X212"), (set.Code, X12Reader.Read(file).Transactions.Single().Version));
        var trace = RequestClaimStatusEndpoint.Trace(request.RequestId, 1);
        Assert.Equal(["1", trace], set.Segments.Single(s => s.Tag == "TRN").Elements);
        Assert.Equal(["EJ", asked.ControlNumber], set.Segments.Single(s => s.Tag == "REF" && s.Elements[0] == "EJ").Elements);
        Assert.Equal(["T3", "450"], set.Segments.Single(s => s.Tag == "AMT").Elements);
        Assert.Contains((await Fixture.Get<ClaimView>($"/api/claims/{asked.Id}")).History, h => h.What == $"Status asked of the payer (276, trace {trace})");
        // The same request again answers the same file; a claim no longer awaiting the payer is not asked about.
        var again = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(request).ToUrl("/api/claim-status-requests");
            s.StatusCodeShouldBeOk();
        });
        Assert.Equal(file, await again.ReadAsTextAsync());

        var import = await Imported(AckBuilder.Status277(9001, (trace, asked.ControlNumber, "F1:65*20261204**450*288*20261201**20261202*EFT000441827")));

        Assert.Equal(("277", "noted"), (import.Kind, Assert.Single(import.Results).Effect));
        var claim = await Fixture.Get<ClaimView>($"/api/claims/{asked.Id}");
        Assert.Equal("filed", claim.Status);
        Assert.EndsWith("277 status: F1:65 Finalized: paid: Claim has been paid; charge $450.00; paid $288.00; finalized 12/01/2026; remittance EFT000441827 of 12/02/2026",
            claim.History.Last().What);

        await Fixture.Post<ClaimView>($"/api/claims/{asked.Id}/reject", new RejectClaim("subscriber id not on file"), 200);
        var refused = await Fixture.Post<Microsoft.AspNetCore.Mvc.ValidationProblemDetails>("/api/claim-status-requests",
            new RequestClaimStatus(Guid.NewGuid(), ClaimIds: [asked.Id]), 422);
        Assert.Contains("only a claim awaiting the payer", refused.Errors["claimIds[0]"][0]);
    }
}
