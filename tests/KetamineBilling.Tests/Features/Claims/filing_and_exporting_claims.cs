using KetamineBilling.Features.Ui;
using Alba;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Marten.Events;
using Microsoft.AspNetCore.Mvc;

namespace KetamineBilling.Tests.Features.Claims;

public class filing_and_exporting_claims(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));
    private Guid _patient;
    private Guid _payer;
    private readonly List<Guid> _sessions = [];

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.PricedCode("96365", 450m, description: "IV infusion, initial hour");
        await Fixture.PricedCode("J3490", 60m, description: "Unclassified drug (ketamine HCl)");
        var created = await Fixture.Post<PatientCreated>("/api/patients", new RegisterPatient("Marisol", "Vantongeren", new DateOnly(1979, 2, 3), null, null,
            new PostalAddress("41 Orchard Lane", null, "Evanston", "IL", "60201"), "F"));
        _patient = created.Id;
        _payer = await Fixture.Payer();
        await Fixture.Coverage(_patient, _payer);
        var authorization = await Fixture.Post<AuthorizationView>("/api/prior-authorizations", new RequestPriorAuthorization(Guid.NewGuid(), _patient, _payer,
            ["96365", "J3490"], 6, ["F33.2"], new MedicalNecessityEvidence(["sertraline", "bupropion"], 22, 35, null), null));
        await Fixture.AndWaitForCascades(() => Fixture.Post<AuthorizationView>($"/api/prior-authorizations/{authorization.Id}/approve",
            new ApprovePriorAuthorization("PA-55123", 6, null, Today.AddDays(-30), Today.AddDays(30)), 200));
        // Authorize 6, deliver 7: the seventh is flagged before it is filed.
        for (var i = 0; i < 7; i++)
        {
            var charge = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(_patient,
                Scenarios.Session(deliveredOn: Today.AddDays(-21 + i * 3), lines: [("96365", 1), ("J3490", 1)]) with { Funding = ["insurance"] }));
            _sessions.Add(charge.SessionId);
        }
    }

    private Task<ClaimView> File(Guid claimId, IReadOnlyList<Guid> sessions, int status = 201) =>
        Fixture.Post<ClaimView>("/api/claims", new FileClaim(claimId, _patient, _payer, sessions), status);

    private async Task<string> Export(params Guid[] claims)
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new ExportClaimBatch(claims, Guid.NewGuid())).ToUrl("/api/claim-batches");
            s.StatusCodeShouldBeOk();
            s.ContentTypeShouldBe("text/plain; charset=us-ascii");
        });
        return await result.ReadAsTextAsync();
    }

    [Fact]
    public async Task a_claim_carries_the_authorization_warns_of_the_flagged_session_and_holds_the_charges_with_insurance()
    {
        var claim = await File(Guid.NewGuid(), _sessions);

        Assert.Equal(("filed", 14, 7 * 510.00m, "PA-55123"), (claim.Status, claim.Lines.Count, claim.TotalCharge, claim.AuthorizationNumber));
        Assert.StartsWith($"{Fmt.Date(Today.AddDays(-3))}: beyond-approved-count", Assert.Single(claim.Warnings));
        Assert.Equal(20, claim.ControlNumber.Length);
        Assert.Equal("00409205101", claim.Lines.Single(l => l.Code == "J3490" && l.SessionId == _sessions[0]).Ndc);
        var balance = await Fixture.BalanceOf(_patient);
        Assert.Equal((7 * 510.00m, 0m), (balance.InsurancePending, balance.PatientDue));
    }

    [Fact]
    public async Task the_claims_list_names_the_patient_and_dates_of_service_marks_claims_sent_in_a_batch_and_finds_them_by_patient_amount_or_date()
    {
        var sent = await File(Guid.NewGuid(), [_sessions[0], _sessions[1]]);
        var waiting = await File(Guid.NewGuid(), [_sessions[2]]);
        await Export(sent.Id);
        var other = await Fixture.RegisteredPatient("Oswin", "Pettigrew");
        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));

        async Task<IReadOnlyList<ClaimView>> List(string query) => (await Fixture.Get<ClaimPage>($"/api/claims?pageSize=200{query}")).Items;

        var all = (await List("")).ToDictionary(c => c.Id);
        var listed = all[sent.Id];
        Assert.Equal(("Marisol Vantongeren", Today.AddDays(-21), Today.AddDays(-18)), (listed.PatientName, listed.DateOfService, listed.LastDateOfService));
        var batch = Assert.Single(listed.Sent!);
        Assert.True(batch.Batch > 0 && !batch.Resubmission && batch.SentAt > DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.Empty(all[waiting.Id].Sent!);
        Assert.Equal((Today.AddDays(-15), Today.AddDays(-15)), (all[waiting.Id].DateOfService, all[waiting.Id].LastDateOfService));
        Assert.Equal(listed.Sent, (await Fixture.Get<ClaimView>($"/api/claims/{sent.Id}")).Sent);

        // The match dialog's search: a patient's name (any part, any case), the claim's charge, a date of service, or its number.
        Assert.Equal(new[] { sent.Id, waiting.Id }.Order(), (await List("&search=vantong")).Select(c => c.Id).Order());
        Assert.Empty(await List("&search=pettigrew"));
        Assert.Equal([sent.Id], (await List($"&search={Uri.EscapeDataString(Fmt.Money(1020m))}")).Select(c => c.Id));
        Assert.Equal([waiting.Id], (await List("&search=510")).Select(c => c.Id));
        Assert.Equal([waiting.Id], (await List($"&search={Uri.EscapeDataString(Fmt.Date(Today.AddDays(-15)))}")).Select(c => c.Id));
        Assert.Equal([sent.Id], (await List($"&search={Today.AddDays(-18):yyyy-MM-dd}")).Select(c => c.Id));
        Assert.Equal([waiting.Id], (await List($"&search={waiting.ControlNumber.ToLowerInvariant()}")).Select(c => c.Id));
        Assert.Empty(await List("&search=nobody"));
        Assert.NotEqual(Guid.Empty, other);
    }

    [Fact]
    public async Task a_session_goes_on_one_open_claim_per_payer_and_a_replay_is_the_same_claim()
    {
        var id = Guid.NewGuid();
        await File(id, _sessions.Take(2).ToList());

        var replay = await File(id, _sessions.Take(2).ToList(), 200);
        await Fixture.Post<ProblemDetails>("/api/claims", new FileClaim(Guid.NewGuid(), _patient, _payer, [_sessions[1], _sessions[2]]), 409);

        Assert.Equal(id, replay.Id);
    }

    [Fact]
    public async Task a_self_pay_session_cannot_be_claimed()
    {
        var selfPay = await Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: Today.AddDays(-1)));

        var problem = await Fixture.Post<ValidationProblemDetails>("/api/claims", new FileClaim(Guid.NewGuid(), _patient, _payer, [selfPay.SessionId]), 422);

        Assert.Equal("sessionIds[0]", Assert.Single(problem.Errors.Keys));
    }

    [Fact]
    public async Task claim_states_move_only_by_legal_steps_and_a_rejected_claims_sessions_can_be_filed_again()
    {
        var first = await File(Guid.NewGuid(), _sessions.Take(1).ToList());
        await Fixture.Post<ClaimView>($"/api/claims/{first.Id}/acknowledge", new { }, 200);
        await Fixture.Post<ProblemDetails>($"/api/claims/{first.Id}/acknowledge", new { }, 409);
        await Fixture.Post<ProblemDetails>($"/api/claims/{first.Id}/appeal", new AppealClaim("too early", null), 409);

        var rejected = await Fixture.Post<ClaimView>($"/api/claims/{first.Id}/reject", new RejectClaim("Subscriber id not found"), 200);
        var again = await File(Guid.NewGuid(), _sessions.Take(1).ToList());

        Assert.Equal(["filed", "acknowledged", "rejected"], rejected.History.Select(h => ApiName(h.Status)));
        Assert.Equal("filed", again.Status);
        var listed = await Fixture.Get<ClaimPage>($"/api/claims?status=rejected&payerId={_payer}");
        Assert.Equal(first.Id, Assert.Single(listed.Items).Id);
        Assert.Empty((await Fixture.Get<ClaimPage>("/api/claims?olderThanDays=30")).Items);
        await Fixture.Post<ProblemDetails>($"/api/claims/{Guid.NewGuid()}/acknowledge", new { }, 404);
    }

    private static string ApiName(string status) => status.ToLowerInvariant();

    [Fact]
    public async Task the_837p_export_reads_cleanly_in_a_third_party_x12_parser_with_the_claim_as_filed()
    {
        var claim = await File(Guid.NewGuid(), _sessions.Take(2).ToList());

        var file = await Export(claim.Id);

        var ours = X12Reader.Read(file);
        var theirs = await ThirdPartyX12Reader.ReadAsync(file);
        Assert.True(theirs.Ok, theirs.Error);
        var set = Assert.Single(theirs.Transactions!);
        Assert.Equal(("837", "005010X222A1"), (set.Code, Assert.Single(ours.Transactions).Version));
        string[] E(string tag, string? qualifier = null) =>
            set.Segments.First(s => s.Tag == tag && (qualifier is null || s.Elements[0] == qualifier)).Elements;
        Assert.Equal([claim.ControlNumber, "1020", "", "", "11:B:1", "Y", "A", "Y", "Y"], E("CLM"));
        Assert.Equal(["G1", "PA-55123"], E("REF", "G1"));
        Assert.Equal(["ABK:F332"], E("HI"));
        Assert.Equal(["HC:96365", "450", "UN", "1", "", "", "1"], E("SV1"));
        Assert.Equal(["472", "D8", Today.AddDays(-21).ToString("yyyyMMdd")], E("DTP", "472"));
        Assert.Equal(["", "N4", "00409205101"], E("LIN"));
        Assert.Equal(["IL", "1", "VANTONGEREN", "MARISOL", "", "", "", "MI", "XJH123456789"], E("NM1", "IL"));
        Assert.Equal(["82", "1", "PROVIDER", "TEST", "", "", "", "XX", "1234567893"], E("NM1", "82"));
        // The billing provider (20) is the parent of the subscriber (22), who is the patient.
        Assert.Equal([["1", "", "20", "1"], ["2", "1", "22", "0"]], set.Segments.Where(s => s.Tag == "HL").Select(s => s.Elements).ToArray());
        Assert.Equal(4, set.Segments.Count(s => s.Tag == "LX"));
        // An unclassified drug code carries its description (SV101-7); the receiver is the clearinghouse.
        Assert.Equal("HC:J3490:::::UNCLASSIFIED DRUG (KETAMINE HCL)", set.Segments.Where(s => s.Tag == "SV1").ElementAt(1).Elements[0]);
        Assert.Equal(["40", "2", "PRAIRIE CLAIMS EXCHANGE", "", "", "", "", "46", "CLRHSE001"], E("NM1", "40"));
    }

    [Fact]
    public async Task a_telehealth_session_with_modifiers_and_its_drug_is_claimed_and_sent_as_recorded()
    {
        var session = Scenarios.Session(deliveredOn: Today.AddDays(-1)) with
        {
            Funding = ["insurance"], PlaceOfService = "10",
            Lines = [new SessionLineInput("96365", 1, ["95"]), new SessionLineInput("J3490", 1, null, new DrugInput("0409-2051-01", 2m, "ml"))]
        };
        var coded = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(_patient, session));
        Assert.Equal(["95"], coded.Lines[0].Modifiers);

        var claim = await File(Guid.NewGuid(), [coded.SessionId]);
        Assert.Equal("10", claim.PlaceOfService);
        Assert.Equal(["95"], claim.Lines[0].Modifiers);
        Assert.Equal("10", claim.Lines[0].PlaceOfService);
        Assert.Equal(new KetamineBilling.Features.Ledger.DrugGiven("00409205101", 2m, "ML"), claim.Lines[1].Drug);

        var theirs = await ThirdPartyX12Reader.ReadAsync(await Export(claim.Id));
        Assert.True(theirs.Ok, theirs.Error);
        var segments = Assert.Single(theirs.Transactions!).Segments;
        Assert.Equal("10:B:1", segments.Single(s => s.Tag == "CLM").Elements[4]);
        Assert.Equal(["HC:96365:95", "HC:J3490:::::UNCLASSIFIED DRUG (KETAMINE HCL)"], segments.Where(s => s.Tag == "SV1").Select(s => s.Elements[0]));
        Assert.Equal(["", "N4", "00409205101"], segments.Single(s => s.Tag == "LIN").Elements);
        Assert.Equal(["", "", "", "2", "ML"], segments.Single(s => s.Tag == "CTP").Elements);
    }

    [Fact]
    public async Task the_cms1500_puts_each_box_where_the_form_has_it()
    {
        var claim = await File(Guid.NewGuid(), _sessions.Take(2).ToList());
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url($"/api/claims/{claim.Id}/cms1500.pdf");
            s.StatusCodeShouldBeOk();
            s.ContentTypeShouldBe("application/pdf");
        });

        using var buffer = new MemoryStream();
        await result.Context.Response.Body.CopyToAsync(buffer, TestContext.Current.CancellationToken);
        using var pdf = UglyToad.PdfPig.PdfDocument.Open(buffer.ToArray());
        var page = Assert.Single(pdf.GetPages());
        var words = page.GetWords().ToList();
        // Each box's text starts where the form's grid puts it (x from the left, the baseline from the top), to half a point.
        void Box(string box, string text, int line, int column)
        {
            var (x, y) = Cms1500.At(line, column);
            var found = words.Where(w => w.Text == text).Select(w => w.Letters[0].StartBaseLine).ToList();
            Assert.True(found.Any(p => Math.Abs(p.X - x) < 0.5 && Math.Abs(792 - p.Y - y) < 0.5),
                $"box {box}: \"{text}\" is not at ({x}, {y}); found at {string.Join(", ", found.Select(p => $"({p.X:0.#}, {792 - p.Y:0.#})"))}; on that line: " +
                string.Join(" | ", words.Where(w => Math.Abs(792 - w.Letters[0].StartBaseLine.Y - y) < 1).Select(w => $"{w.Text}@{w.Letters[0].StartBaseLine.X:0.#}")));
        }

        Box("1a", "XJH123456789", 8, 50);
        Box("2", "VANTONGEREN,", 10, 1);
        Box("3 month", "02", 10, 31);
        Box("3 year", "1979", 10, 37);
        Box("3 sex F", "X", 10, 47);
        Box("5 ZIP", "60201", 16, 1);
        Box("21A", "F33.2", 38, 3);
        Box("23", "PA-55123", 40, 50);
        Box("24D line 1", "96365", 44, 25);
        Box("24F line 1 cents", "00", 44, 56);
        Box("24 shaded line 2: NDC", "N400409205101", 45, 1);
        Box("24D line 2", "J3490", 46, 25);
        Box("24J line 1", "1234567893", 44, 68);
        Box("26", claim.ControlNumber, 56, 23);
        Box("28 cents", "00", 56, 58);
        Box("33a", "1543210987", 61, 50);
        // The total's dollars end just before its cents.
        var total = words.Single(w => w.Text == "1020");
        Assert.InRange(Cms1500.At(56, 58).X - total.BoundingBox.Right, 0, Cms1500.Column);
    }

    [Fact]
    public async Task the_export_follows_the_loop_order_of_the_implementation_guides_own_example()
    {
        var sample = await System.IO.File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Features", "Claims", "Samples", "x222a1-example-commercial.837"),
            TestContext.Current.CancellationToken);
        var published = await ThirdPartyX12Reader.ReadAsync(sample);
        Assert.True(published.Ok, published.Error);
        Assert.Equal(42, X12Reader.Read(sample).Transactions.Single().Segments.Count);

        var claim = await File(Guid.NewGuid(), _sessions.Take(1).ToList());
        var ours = Assert.Single((await ThirdPartyX12Reader.ReadAsync(await Export(claim.Id))).Transactions!);

        // The loops and their key segments appear in the same order as in the guide's example.
        string[] Skeleton(IEnumerable<ThirdPartyX12Reader.Segment> segments) => segments
            .Select(s => s.Tag switch
            {
                "NM1" or "HL" => $"{s.Tag}:{(s.Tag == "HL" ? s.Elements[2] : s.Elements[0])}",
                "ST" or "BHT" or "SBR" or "CLM" or "HI" or "LX" or "SV1" or "DTP" or "SE" => s.Tag,
                _ => null
            })
            .OfType<string>()
            .Where(tag => tag is not ("NM1:87" or "NM1:QC" or "HL:23" or "NM1:82"))
            .Distinct()
            .ToArray();
        Assert.Equal(Skeleton(published.Transactions!.Single().Segments), Skeleton(ours.Segments));
    }

    private async Task<(int Status, string Body)> Batch(ExportClaimBatch batch)
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(batch).ToUrl("/api/claim-batches");
            s.IgnoreStatusCode();
        });
        return (result.Context.Response.StatusCode, await result.ReadAsTextAsync());
    }

    [Fact]
    public async Task a_replayed_batch_answers_the_same_837_bytes_and_a_claim_sent_before_goes_again_only_as_a_recorded_resubmission()
    {
        var claim = await File(Guid.NewGuid(), _sessions.Take(1).ToList());
        var other = await File(Guid.NewGuid(), _sessions.Skip(1).Take(1).ToList());
        var batch = new ExportClaimBatch([claim.Id], Guid.NewGuid());

        var (_, first) = await Batch(batch);
        await Task.Delay(1100, TestContext.Current.CancellationToken);
        var (replayStatus, replay) = await Batch(batch);

        Assert.Equal(200, replayStatus);
        Assert.Equal(first, replay);
        var isa13 = X12Reader.Read(first).ControlNumber;

        // The same batch id with other claims is a conflict; so is the claim in a new batch without a resubmission.
        var (sameIdOther, _) = await Batch(batch with { ClaimIds = [claim.Id, other.Id] });
        Assert.Equal(409, sameIdOther);
        var (again, conflict) = await Batch(new ExportClaimBatch([other.Id, claim.Id], Guid.NewGuid()));
        Assert.Equal(409, again);
        Assert.Contains(claim.ControlNumber, conflict);
        Assert.Contains(isa13, conflict);
        Assert.Contains(batch.BatchId!.Value.ToString(), conflict);

        var (noReason, reasonProblem) = await Batch(new ExportClaimBatch([claim.Id], Guid.NewGuid(), Resubmission: true));
        Assert.Equal(400, noReason);
        Assert.Contains("resubmissionReason", reasonProblem);

        var resubmission = new ExportClaimBatch([other.Id, claim.Id], Guid.NewGuid(), true, "the clearinghouse lost the file");
        var (resent, file) = await Batch(resubmission);
        Assert.Equal(200, resent);
        Assert.NotEqual(isa13, X12Reader.Read(file).ControlNumber);
        await using var session = Store.QuerySession(AppFixture.Clinic);
        var recorded = await session.Query<ClaimBatch>().SingleAsync(b => b.BatchId == resubmission.BatchId, TestContext.Current.CancellationToken);
        Assert.Equal("the clearinghouse lost the file", recorded.ResubmissionReason);
        Assert.Equal([new ResentClaim(claim.Id, int.Parse(isa13), batch.BatchId!.Value)], recorded.Resent);
        Assert.Equal(2, await session.Query<ClaimBatch>().CountAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task batches_made_at_once_send_a_claim_once()
    {
        var claim = await File(Guid.NewGuid(), _sessions.Take(1).ToList());

        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Batch(new ExportClaimBatch([claim.Id], Guid.NewGuid()))));

        Assert.Equal([200, 409, 409, 409], answers.Select(a => a.Status).Order());
        await using var session = Store.QuerySession(AppFixture.Clinic);
        Assert.Equal(1, await session.Query<ClaimBatch>().CountAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task only_claims_awaiting_the_payer_are_exported()
    {
        var claim = await File(Guid.NewGuid(), _sessions.Take(1).ToList());
        await Fixture.Post<ClaimView>($"/api/claims/{claim.Id}/reject", new RejectClaim("duplicate"), 200);

        var problem = await Fixture.Post<ValidationProblemDetails>("/api/claim-batches", new ExportClaimBatch([claim.Id, Guid.NewGuid()], Guid.NewGuid()), 422);

        Assert.Equal(["claimIds[0]", "claimIds[1]"], problem.Errors.Keys.Order());
    }
}

public class reading_x12
{
    private const string Valid =
        "ISA*00*          *00*          *ZZ*A              *ZZ*B              *261127*0215*^*00501*000000001*1*T*:~" +
        "GS*HP*A*B*20261127*0215*7*X*005010X221A1~ST*835*0001*005010X221A1~BPR*I*10*C*ACH~SE*3*0001~GE*1*7~IEA*1*000000001~";

    [Fact]
    public void a_valid_interchange_is_read_with_its_delimiters_and_sets()
    {
        var interchange = X12Reader.Read(Valid);

        Assert.Equal(('*', ':', '^', '~'), (interchange.ElementSeparator, interchange.ComponentSeparator, interchange.RepetitionSeparator, interchange.SegmentTerminator));
        Assert.Equal("835", Assert.Single(interchange.Transactions).Code);
    }

    [Theory]
    [InlineData("not an x12 file at all", "not an X12 interchange")]
    [InlineData("SE*3*0001", "SE01")]
    [InlineData("GE*1*7", "GE01")]
    [InlineData("IEA", "truncated")]
    public void broken_envelopes_are_refused_with_the_reason(string breakage, string reason)
    {
        var text = breakage switch
        {
            "SE*3*0001" => Valid.Replace("SE*3*0001", "SE*5*0001"),
            "GE*1*7" => Valid.Replace("GE*1*7", "GE*2*7"),
            "IEA" => Valid[..Valid.IndexOf("GE*", StringComparison.Ordinal)],
            _ => breakage
        };

        var error = Assert.Throws<X12FormatException>(() => X12Reader.Read(text));
        Assert.Contains(reason, error.Message);
    }
}
