using Alba;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Mvc;
using static KetamineBilling.Tests.Infrastructure.Remittance835Builder;

namespace KetamineBilling.Tests.Features.Remittances;

/// <summary>
/// The insurance round trip: authorize 6 sessions, deliver 7 (the 7th flagged), file claims, post 835s with a
/// partial payment (PR coinsurance, CO write-off), a CARC 197 denial, a reversal, a duplicate upload and an
/// unknown claim; the balances and claim states after each.
/// </summary>
public class posting_remittances(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));
    private Guid _patient;
    private Guid _payer;
    private readonly List<SessionCharge> _sessions = [];

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.PricedCode("96365", 450m, description: "IV infusion, initial hour");
        await Fixture.PricedCode("J3490", 60m, description: "Unclassified drug (ketamine HCl)");
        _patient = await Fixture.RegisteredPatient("Odalys", "Featherstonehaugh", new DateOnly(1983, 8, 21));
        _payer = await Fixture.Payer();
        await Fixture.Coverage(_patient, _payer);
        var authorization = await Fixture.Post<AuthorizationView>("/api/prior-authorizations", new RequestPriorAuthorization(Guid.NewGuid(), _patient, _payer,
            ["96365", "J3490"], 6, ["F33.2"], new MedicalNecessityEvidence(["escitalopram", "venlafaxine"], 20, 33, null), null));
        await Fixture.AndWaitForCascades(() => Fixture.Post<AuthorizationView>($"/api/prior-authorizations/{authorization.Id}/approve",
            new ApprovePriorAuthorization("PA-77001", 6, null, Today.AddDays(-40), Today.AddDays(20)), 200));
        for (var i = 0; i < 7; i++)
        {
            _sessions.Add(await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(_patient,
                Scenarios.Session(deliveredOn: Today.AddDays(-28 + i * 4), lines: [("96365", 1), ("J3490", 1)]) with { Funding = ["insurance"] })));
        }
    }

    private Task<ClaimView> File(params int[] sessions) =>
        Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), _patient, _payer, sessions.Select(i => _sessions[i].SessionId).ToList()));

    private async Task<(int Status, string Body)> Upload(string file)
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Text(file).ToUrl("/api/remittances");
            s.IgnoreStatusCode();
        });
        return (result.Context.Response.StatusCode, await result.ReadAsTextAsync());
    }

    private async Task<RemittanceUpload> Posted(string file)
    {
        var (status, body) = await Upload(file);
        Assert.True(status == 200, body);
        return System.Text.Json.JsonSerializer.Deserialize<RemittanceUpload>(body, System.Text.Json.JsonSerializerOptions.Web)!;
    }

    private Task<ClaimView> Claim(Guid id) => Fixture.Get<ClaimView>($"/api/claims/{id}");

    private static Svc Line(ClaimView claim, int line, decimal paid, params (string, string, decimal)[] cas)
    {
        var l = claim.Lines[line - 1];
        return new Svc(l.Code, l.Charge, paid, l.DateOfService, $"{claim.ControlNumber}-{l.LineNumber}", cas);
    }

    private async Task<int> Events()
    {
        await using var session = Store.QuerySession(AppFixture.Clinic);
        return (await session.Events.QueryAllRawEvents().ToListAsync(TestContext.Current.CancellationToken)).Count;
    }

    [Fact]
    public async Task a_partial_payment_a_denial_a_reversal_a_duplicate_and_an_unknown_claim_leave_every_balance_and_state_right()
    {
        var paid = await File(0);
        var denied = await File(1);
        var reversed = await File(2);
        var flagged = await File(6);
        Assert.Contains(flagged.Warnings, w => w.Contains("beyond-approved-count"));
        Assert.Contains(flagged.Warnings, w => w.Contains("no address"));

        // BPR02 balances: the claim payments 750 less the provider adjustment -25 (which increases the payment) make 775.
        var first = Build("CHK100001", "BLUE PRAIRIE HEALTH", "BPH01", 775m, Today, [
            // 96365: allowed 330, paid 250, 80 coinsurance to the patient, 120 contractual; J3490: paid 50, 10 contractual.
            new Clp(paid.ControlNumber, "1", 510m, 300m, 80m,
                Line(paid, 1, 250m, ("CO", "45", 120m), ("PR", "2", 80m)), Line(paid, 2, 50m, ("CO", "45", 10m))),
            new Clp(denied.ControlNumber, "4", 510m, 0m, 0m, Line(denied, 1, 0m, ("CO", "197", 450m)), Line(denied, 2, 0m, ("CO", "197", 60m))),
            new Clp(reversed.ControlNumber, "1", 510m, 400m, 0m, Line(reversed, 1, 350m, ("CO", "45", 100m)), Line(reversed, 2, 50m, ("CO", "45", 10m))),
            new Clp("KB0000UNKNOWN00001", "1", 100m, 50m, 0m, new Svc("99213", 100m, 50m, Today.AddDays(-5), null, ("CO", "45", 50m)))
        ], ("WO", "OVERPAY-1", -25m));

        var result = await Posted(first);

        Assert.Equal((3, 6, 700m, 1, false), (result.ClaimsPosted, result.LinesPosted, result.TotalPaid, result.UnmatchedItems, result.Duplicate));
        Assert.Contains("no claim has the patient control number", Assert.Single(result.Remittances.Single().Unmatched).Reason);
        Assert.Equal(("paid", 300m), ((await Claim(paid.Id)).Status, (await Claim(paid.Id)).Paid));
        var deniedClaim = await Claim(denied.Id);
        Assert.Equal("denied", deniedClaim.Status);
        Assert.Equal("197", deniedClaim.Adjudications.Single().Lines[0].Adjustments.Single().Reason);
        var balance = await Fixture.BalanceOf(_patient);
        // Charged 7 x 510. Paid 700 by insurance. Contractual 130 + 110. Coinsurance 80 now the patient's.
        Assert.Equal((3570m, 700m, 240m, 80m), (balance.TotalCharged, balance.TotalInsurancePaid, balance.TotalAdjusted, balance.PatientDue));
        Assert.Equal(3570m - 700m - 240m - 80m, balance.InsurancePending);
        Assert.True(balance.Sessions[1].Lines.All(l => l.Denied && l.InsurancePending == l.Charge));
        var remittance = await Fixture.Get<Remittance>($"/api/remittances/{result.Remittances.Single().RemittanceId}");
        Assert.Equal(-25m, remittance.ProviderAdjustments.Single().Amount);

        // The same file again: the original result, nothing changed.
        var before = await Events();
        var again = await Posted(first);
        Assert.True(again.Duplicate);
        Assert.Equal(result.TotalPaid, again.TotalPaid);
        Assert.Equal(before, await Events());

        // The same trace with other content is a conflict.
        var (conflict, _) = await Upload(first.Replace("*300*80*", "*301*80*"));
        Assert.Equal(409, conflict);

        // The payer takes back the third claim's payment. BPR02 is never negative: the payment is 0.00 and the -400.00 is carried
        // to a later advice with a forwarding balance (PLB*FB), which balances the file: -400 - (-400) = 0.
        var reversal = Build("CHK100002", "BLUE PRAIRIE HEALTH", "BPH01", 0m, Today, [
            new Clp(reversed.ControlNumber, "22", -510m, -400m, 0m, Line(reversed, 1, -350m, ("CO", "45", -100m)), Line(reversed, 2, -50m, ("CO", "45", -10m)))
        ], ("FB", "CHK100002", -400m));
        var undone = await Posted(reversal);
        Assert.Equal((1, -400m), (undone.ClaimsPosted, undone.TotalPaid));
        Assert.Equal("acknowledged", (await Claim(reversed.Id)).Status);
        balance = await Fixture.BalanceOf(_patient);
        Assert.Equal((300m, 130m, 80m), (balance.TotalInsurancePaid, balance.TotalAdjusted, balance.PatientDue));
        Assert.Equal(510m, balance.Sessions[2].InsurancePending);
        Assert.Equal(balance.TotalCharged - balance.TotalPaid - balance.TotalAdjusted + balance.TotalRefunded, balance.TotalOpen - balance.UnappliedCredit);
    }

    [Fact]
    public async Task an_unmatched_item_is_posted_once_billing_names_its_claim()
    {
        var claim = await File(3);
        var line = claim.Lines[0];
        // The payer mangled the control number and did not echo the line ids: only code and date can match.
        var file = Build("CHK200001", "BLUE PRAIRIE HEALTH", "BPH01", 400m, Today, [
            new Clp("KB0000MISTYPED00001", "1", 510m, 400m, 0m,
                new Svc("96365", 450m, 350m, line.DateOfService, null, ("CO", "45", 100m)), new Svc("J3490", 60m, 50m, line.DateOfService, null, ("CO", "45", 10m)))
        ]);
        var upload = await Posted(file);
        var remittance = upload.Remittances.Single();
        var item = Assert.Single(remittance.Unmatched);

        var matched = await Fixture.Post<PostedClaim>($"/api/remittances/{remittance.RemittanceId}/matches", new MatchRemittanceItem(item.ItemId, claim.Id), 200);
        await Fixture.Post<ProblemDetails>($"/api/remittances/{remittance.RemittanceId}/matches", new MatchRemittanceItem(item.ItemId, claim.Id), 404);

        Assert.Equal((400m, 2), (matched.Paid, matched.Lines));
        Assert.Equal("paid", (await Claim(claim.Id)).Status);
        Assert.Empty((await Fixture.Get<Remittance>($"/api/remittances/{remittance.RemittanceId}")).Unmatched);
    }

    [Fact]
    public async Task a_denied_claim_is_appealed_and_then_paid_and_a_paper_eob_posts_by_the_same_rules()
    {
        var claim = await File(4);
        await Posted(Build("CHK300001", "BLUE PRAIRIE HEALTH", "BPH01", 0m, Today, [
            new Clp(claim.ControlNumber, "4", 510m, 0m, 0m, Line(claim, 1, 0m, ("CO", "197", 450m)), Line(claim, 2, 0m, ("CO", "197", 60m)))
        ]));
        var appealed = await Fixture.Post<ClaimView>($"/api/claims/{claim.Id}/appeal", new AppealClaim("Authorization PA-77001 covered the date",
            ["authorization-approval.pdf"]), 200);
        Assert.Equal("appealed", appealed.Status);

        var eob = new PostEob(Guid.NewGuid(), "EOB-99", [
            new EobLine(1, 330m, 250m, [new EobAdjustment("CO", "45", 120m), new EobAdjustment("PR", "3", 80m)], ["N381"]),
            new EobLine(2, 50m, 50m, [new EobAdjustment("CO", "45", 10m)], null)
        ]);
        var posted = await Fixture.Post<ClaimView>($"/api/claims/{claim.Id}/eob", eob, 200);
        var replay = await Fixture.Post<ClaimView>($"/api/claims/{claim.Id}/eob", eob, 200);

        Assert.Equal(("paid", 300m), (posted.Status, posted.Paid));
        Assert.Equal(posted.Adjudications.Count, replay.Adjudications.Count);
        var session = (await Fixture.BalanceOf(_patient)).Sessions[4];
        Assert.Equal((80m, 0m, false), (session.PatientDue, session.InsurancePending, session.Lines[0].Denied));
        var unbalanced = await Fixture.Post<ValidationProblemDetails>($"/api/claims/{claim.Id}/eob",
            new PostEob(Guid.NewGuid(), null, [new EobLine(1, null, 10m, [new EobAdjustment("CO", "45", 1m)], null)]), 422);
        Assert.Contains("is not the", unbalanced.Errors["lines"][0]);
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("segment-count")]
    [InlineData("not-x12")]
    [InlineData("no-835")]
    public async Task a_bad_file_is_a_400_and_posts_nothing(string badness)
    {
        var claim = await File(5);
        var good = Build("CHK400001", "BLUE PRAIRIE HEALTH", "BPH01", 300m, Today, [
            new Clp(claim.ControlNumber, "1", 510m, 300m, 0m, Line(claim, 1, 250m, ("CO", "45", 200m)), Line(claim, 2, 50m, ("CO", "45", 10m)))
        ]);
        var file = badness switch
        {
            "truncated" => good[..(good.Length / 2)],
            "segment-count" => good.Replace("SE*", "SE*9"),
            "no-835" => good.Replace("ST*835*", "ST*999*"),
            _ => "PATIENT,AMOUNT\nDoe,300.00\n"
        };
        var before = await Events();

        var (status, body) = await Upload(file);

        Assert.Equal(400, status);
        Assert.Contains("\"file\"", body);
        Assert.Equal(before, await Events());
    }

    [Fact]
    public async Task a_file_over_the_size_limit_is_a_413()
    {
        var (status, _) = await Upload(new string('X', (int)RemittanceBody.MaxBytes + 10));

        Assert.Equal(413, status);
    }

    [Fact]
    public async Task an_835_uploaded_as_a_multipart_file_posts_too()
    {
        var claim = await File(5);
        var file = Build("CHK500001", "BLUE PRAIRIE HEALTH", "BPH01", 300m, Today, [
            new Clp(claim.ControlNumber, "1", 510m, 300m, 0m, Line(claim, 1, 250m, ("CO", "45", 200m)), Line(claim, 2, 50m, ("CO", "45", 10m)))
        ]);
        var token = await Fixture.TokenFor(As.Billing);
        var client = Host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        using var form = new MultipartFormDataContent { { new StringContent(file), "file", "remit.835" } };

        var response = await client.PostAsync("/api/remittances", form, TestContext.Current.CancellationToken);

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("paid", (await Claim(claim.Id)).Status);
    }

    [Fact]
    public async Task a_claim_applied_wholly_to_the_deductible_is_paid_not_denied_and_its_session_cannot_be_voided_or_claimed_again()
    {
        var claim = await File(0);
        await Posted(Build("CHK600001", "BLUE PRAIRIE HEALTH", "BPH01", 0m, Today, [
            new Clp(claim.ControlNumber, "1", 510m, 0m, 390m, Line(claim, 1, 0m, ("CO", "45", 120m), ("PR", "1", 330m)), Line(claim, 2, 0m, ("CO", "45", 0m), ("PR", "1", 60m)))
        ]));

        Assert.Equal("paid", (await Claim(claim.Id)).Status);
        Assert.Equal(390m, (await Fixture.BalanceOf(_patient)).PatientDue);
        await Fixture.Post<ProblemDetails>($"/api/patients/{_patient}/sessions/{_sessions[0].SessionId}/void", new VoidSession("entered in error"), 409);
        await Fixture.Post<ClaimView>($"/api/claims/{claim.Id}/close", new CloseClaim("settled"), 200);
        await Fixture.Post<ProblemDetails>("/api/claims", new FileClaim(Guid.NewGuid(), _patient, _payer, [_sessions[0].SessionId]), 409);
    }

    [Fact]
    public async Task closing_a_denied_claim_says_who_pays_what_insurance_will_not()
    {
        var claim = await File(1);
        await Posted(Build("CHK700001", "BLUE PRAIRIE HEALTH", "BPH01", 0m, Today, [
            new Clp(claim.ControlNumber, "4", 510m, 0m, 0m, Line(claim, 1, 0m, ("CO", "50", 450m)), Line(claim, 2, 0m, ("CO", "50", 60m)))
        ]));

        var missing = await Fixture.Post<ValidationProblemDetails>($"/api/claims/{claim.Id}/close", new CloseClaim("not medically necessary per payer"), 422);
        await Fixture.Post<ClaimView>($"/api/claims/{claim.Id}/close", new CloseClaim("not medically necessary per payer", "bill-patient"), 200);

        Assert.Equal("disposition", Assert.Single(missing.Errors.Keys));
        var session = (await Fixture.BalanceOf(_patient)).Sessions[1];
        Assert.Equal((510m, 0m), (session.PatientDue, session.InsurancePending));
    }

    [Fact]
    public async Task an_eob_answering_a_line_twice_or_a_file_repeating_a_trace_is_refused()
    {
        var claim = await File(2);
        var eob = await Fixture.Post<ValidationProblemDetails>($"/api/claims/{claim.Id}/eob", new PostEob(Guid.NewGuid(), null, [
            new EobLine(1, null, 350m, [new EobAdjustment("CO", "45", 100m)], null), new EobLine(1, null, 350m, [new EobAdjustment("CO", "45", 100m)], null)
        ]), 400);
        Assert.Equal("lines[1].lineNumber", Assert.Single(eob.Errors.Keys));

        var one = Build("CHK800001", "BLUE PRAIRIE HEALTH", "BPH01", 400m, Today, [
            new Clp(claim.ControlNumber, "1", 510m, 400m, 0m, Line(claim, 1, 350m, ("CO", "45", 100m)), Line(claim, 2, 50m, ("CO", "45", 10m)))
        ]);
        var set = one[one.IndexOf("ST*", StringComparison.Ordinal)..one.IndexOf("GE*", StringComparison.Ordinal)];
        var twice = one.Replace(set, set + set.Replace("ST*835*0001", "ST*835*0002").Replace("*0001~", "*0002~")).Replace("GE*1*", "GE*2*");
        var (status, body) = await Upload(twice);
        Assert.Equal(400, status);
        Assert.Contains("twice", body);
        Assert.Equal("filed", (await Claim(claim.Id)).Status);
    }
}
