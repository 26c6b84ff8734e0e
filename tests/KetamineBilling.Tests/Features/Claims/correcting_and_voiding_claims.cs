using Alba;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using static KetamineBilling.Tests.Infrastructure.Remittance835Builder;

namespace KetamineBilling.Tests.Features.Claims;

/// <summary>
/// Corrected (frequency 7) and voided (frequency 8) claims over HTTP (issue 19): a claim denied for a missing modifier is
/// replaced, the payer reverses the original and pays the replacement in one 835, and the service is paid once; a paid claim
/// voided goes in the next batch as its void.
/// </summary>
public class correcting_and_voiding_claims(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));
    private Guid _patient;
    private Guid _payer;
    private SessionCharge _session = null!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.PricedCode("96365", 450m, description: "IV infusion, initial hour");
        await Fixture.PricedCode("J3490", 60m, description: "Unclassified drug (ketamine HCl)");
        _patient = await Fixture.RegisteredPatient("Perpetua", "Vasquez-Oyelaran", new DateOnly(1977, 4, 9));
        _payer = await Fixture.Payer();
        await Fixture.Coverage(_patient, _payer);
        _session = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(_patient,
            Scenarios.Session(deliveredOn: Today.AddDays(-20), lines: [("96365", 1), ("J3490", 1)]) with { Funding = ["insurance"] }));
    }

    private Task<RemittanceUpload> Posted(string file) => Fixture.PostedRemittance(file);

    private async Task<(int Status, string Body)> Export(Guid claimId, bool resubmission = false)
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new ExportClaimBatch([claimId], Guid.NewGuid(), resubmission, resubmission ? "the payer lost the void" : null)).ToUrl("/api/claim-batches");
            s.IgnoreStatusCode();
        });
        return (result.Context.Response.StatusCode, await result.ReadAsTextAsync());
    }

    private static Svc Line(ClaimView claim, int line, decimal paid, params (string, string, decimal)[] cas)
    {
        var l = claim.Lines[line - 1];
        return new Svc(l.Code, l.Charge, paid, l.DateOfService, $"{claim.ControlNumber}-{l.LineNumber}", cas);
    }

    private static string PayerClaimNumber(ClaimView claim) => $"PCN{claim.ControlNumber[^6..]}";

    [Fact]
    public async Task a_claim_denied_for_its_coding_is_replaced_and_the_payer_reverses_the_original_and_pays_the_replacement_once()
    {
        var original = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), _patient, _payer, [_session.SessionId]));
        Assert.Equal(200, (await Export(original.Id)).Status);
        // The payer denies the infusion (CO-4: the modifier is inconsistent with the code) and pays the drug.
        await Posted(Build("TRC-1", "PRAIRIE HEALTH", "PRH01", 48m, Today.AddDays(-10),
            [new Clp(original.ControlNumber, "1", 510m, 48m, 0m, Line(original, 1, 0m, ("CO", "4", 450m)), Line(original, 2, 48m, ("CO", "45", 12m)))]));
        original = await Fixture.Get<ClaimView>($"/api/claims/{original.Id}");
        Assert.Equal(("partially-paid", PayerClaimNumber(original)), (original.Status, original.PayerClaimNumber));

        // Replaced with the infusion's modifier corrected; the same request again answers the same replacement.
        var replace = new ReplaceClaim(Guid.NewGuid(), "modifier 59 was missing on the infusion", null, null, [new LineCorrection(1, ["59"])]);
        var replacement = await Fixture.Post<ClaimView>($"/api/claims/{original.Id}/replacement", replace);
        Assert.Equal((original.Id, PayerClaimNumber(original), "7", "filed"),
            (replacement.ReplacesClaimId!.Value, replacement.ReplacesPayerClaimNumber, replacement.Frequency, replacement.Status));
        Assert.Equal(["59"], replacement.Lines[0].Modifiers);
        Assert.Equal(510m, replacement.TotalCharge);
        Assert.Equal(replacement.Id, (await Fixture.Post<ClaimView>($"/api/claims/{original.Id}/replacement", replace, 200)).Id);
        await Fixture.Post<ProblemDetails>($"/api/claims/{original.Id}/replacement", replace with { Lines = [new LineCorrection(1, ["XU"])] }, 409);
        var replaced = await Fixture.Get<ClaimView>($"/api/claims/{original.Id}");
        Assert.Equal(("replaced", replacement.Id), (replaced.Status, replaced.ReplacedByClaimId!.Value));
        Assert.Equal([replacement.Id], (await Fixture.BalanceOf(_patient)).Sessions.Single().ClaimIds!);
        // A replaced claim is corrected no further, and is not sent again.
        await Fixture.Post<ProblemDetails>($"/api/claims/{original.Id}/replacement", replace with { ReplacementId = Guid.NewGuid() }, 409);
        Assert.Equal(422, (await Export(original.Id)).Status);

        // The replacement goes as frequency 7 naming the payer's claim number, and reads in a third-party parser.
        var (status, file) = await Export(replacement.Id);
        Assert.Equal(200, status);
        var read = await ThirdPartyX12Reader.ReadAsync(file);
        Assert.True(read.Ok, read.Error);
        var segments = Assert.Single(read.Transactions!).Segments;
        Assert.Equal("11:B:7", segments.Single(s => s.Tag == "CLM").Elements[4]);
        Assert.Equal(["F8", PayerClaimNumber(original)], segments.Single(s => s.Tag == "REF" && s.Elements[0] == "F8").Elements);
        Assert.Equal("HC:96365:59", segments.First(s => s.Tag == "SV1").Elements[0]);

        // One 835: the original's payment taken back (CLP02 22), the replacement paid.
        var upload = await Posted(Build("TRC-2", "PRAIRIE HEALTH", "PRH01", 360m, Today.AddDays(-2),
        [
            new Clp(original.ControlNumber, "22", -510m, -48m, 0m),
            new Clp(replacement.ControlNumber, "1", 510m, 408m, 0m, Line(replacement, 1, 360m, ("CO", "45", 90m)), Line(replacement, 2, 48m, ("CO", "45", 12m)))
        ]));
        Assert.Equal((2, 0), (upload.ClaimsPosted, upload.UnmatchedItems));
        Assert.Equal("replaced", (await Fixture.Get<ClaimView>($"/api/claims/{original.Id}")).Status);
        Assert.Equal(("paid", 408m), ((await Fixture.Get<ClaimView>($"/api/claims/{replacement.Id}")) is var paid ? (paid.Status, paid.Paid) : default));
        // The service is paid once: 408.00 by insurance, 102.00 written off, nothing open.
        var session = (await Fixture.BalanceOf(_patient)).Sessions.Single();
        Assert.Equal((408m, 102m, 0m), (session.InsurancePaid, session.Adjusted, session.Open));
    }

    [Fact]
    public async Task a_paid_claim_voided_goes_in_the_next_batch_as_its_void_once_and_its_session_may_be_claimed_again()
    {
        var claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), _patient, _payer, [_session.SessionId]));
        // Not yet adjudicated: nothing to void at the payer.
        await Fixture.Post<ProblemDetails>($"/api/claims/{claim.Id}/void", new VoidClaim("billed to the wrong payer"), 409);
        Assert.Equal(200, (await Export(claim.Id)).Status);
        await Posted(Build("TRC-3", "PRAIRIE HEALTH", "PRH01", 408m, Today.AddDays(-10),
            [new Clp(claim.ControlNumber, "1", 510m, 408m, 0m, Line(claim, 1, 360m, ("CO", "45", 90m)), Line(claim, 2, 48m, ("CO", "45", 12m)))]));

        var problem = await Fixture.Post<ValidationProblemDetails>($"/api/claims/{claim.Id}/void", new VoidClaim("billed to the wrong payer", "PCN000000"), 422);
        Assert.Contains("payerClaimNumber", problem.Errors.Keys);
        var voided = await Fixture.Post<ClaimView>($"/api/claims/{claim.Id}/void", new VoidClaim("billed to the wrong payer"), 200);
        Assert.Equal(("voided", PayerClaimNumber(claim)), (voided.Status, voided.VoidPayerClaimNumber));
        Assert.Equal("voided", (await Fixture.Post<ClaimView>($"/api/claims/{claim.Id}/void", new VoidClaim("billed to the wrong payer"), 200)).Status);
        await Fixture.Post<ProblemDetails>($"/api/claims/{claim.Id}/void", new VoidClaim("another reason entirely"), 409);
        Assert.Empty((await Fixture.BalanceOf(_patient)).Sessions.Single().ClaimIds!);

        var (status, file) = await Export(claim.Id);
        Assert.Equal(200, status);
        var segments = Assert.Single((await ThirdPartyX12Reader.ReadAsync(file)).Transactions!).Segments;
        Assert.Equal("11:B:8", segments.Single(s => s.Tag == "CLM").Elements[4]);
        Assert.Equal(["F8", PayerClaimNumber(claim)], segments.Single(s => s.Tag == "REF" && s.Elements[0] == "F8").Elements);
        Assert.Equal(409, (await Export(claim.Id)).Status);
        Assert.Equal(200, (await Export(claim.Id, resubmission: true)).Status);
        var sent = (await Fixture.Get<ClaimView>($"/api/claims/{claim.Id}")).Sent!;
        Assert.Equal([false, true, true], sent.Select(s => s.Void));

        // The payer takes its payment back (nothing else in the 835: the negative balance is carried forward); the session goes on a new claim.
        await Posted(Build("TRC-4", "PRAIRIE HEALTH", "PRH01", 0m, Today.AddDays(-1), [new Clp(claim.ControlNumber, "22", -510m, -408m, 0m)],
            ("FB", PayerClaimNumber(claim), -408m)));
        Assert.Equal("voided", (await Fixture.Get<ClaimView>($"/api/claims/{claim.Id}")).Status);
        var session = (await Fixture.BalanceOf(_patient)).Sessions.Single();
        Assert.Equal((0m, 510m), (session.InsurancePaid, session.InsurancePending));
        await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), _patient, _payer, [_session.SessionId]));
    }
}
