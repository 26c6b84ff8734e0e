using System.Text;
using System.Text.RegularExpressions;
using Alba;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static KetamineBilling.Tests.Infrastructure.Remittance835Builder;

namespace KetamineBilling.Tests.Features.Remittances;

/// <summary>
/// Bad 835s are refused with a clear error and nothing written: an unbalanced file (unless billing accepts it, recorded),
/// negative amounts outside a reversal, amounts with more than two decimals, a file with more segments than the cap;
/// a pretty-printed file (whitespace before its segments) is read.
/// </summary>
public class refusing_bad_835s(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));
    private ClaimView _claim = null!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.PricedCode("96365", 450m, description: "IV infusion, initial hour");
        var patient = await Fixture.RegisteredPatient("Remi", "Tance", new DateOnly(1979, 3, 4));
        var payer = await Fixture.Payer();
        await Fixture.Coverage(patient, payer);
        var session = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient,
            Scenarios.Session(deliveredOn: Today.AddDays(-10), lines: [("96365", 1)]) with { Funding = ["insurance"] }));
        _claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), patient, payer, [session.SessionId]));
    }

    /// <summary>Pays the claim 300 of 450 (150 contractual); BPR02 as given.</summary>
    private string File(decimal bpr, string trace = "CHK900001", params (string Reason, string Reference, decimal Amount)[] plb) =>
        Build(trace, "BLUE PRAIRIE HEALTH", "BPH01", bpr, Today, [
            new Clp(_claim.ControlNumber, "1", 450m, 300m, 0m, new Svc("96365", 450m, 300m, _claim.Lines[0].DateOfService, $"{_claim.ControlNumber}-1", ("CO", "45", 150m)))
        ], plb);

    private async Task<(int Status, string Body)> Upload(string file, bool acceptUnbalanced = false)
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            var send = s.Post.Text(file).ToUrl("/api/remittances");
            if (acceptUnbalanced) send.QueryString("acceptUnbalanced", "true");
            s.IgnoreStatusCode();
        });
        return (result.Context.Response.StatusCode, await result.ReadAsTextAsync());
    }

    private async Task<int> Events()
    {
        await using var session = Store.QuerySession(AppFixture.Clinic);
        return (await session.Events.QueryAllRawEvents().ToListAsync(TestContext.Current.CancellationToken)).Count;
    }

    [Fact]
    public async Task a_pretty_printed_835_with_spaces_tabs_and_line_breaks_before_its_segments_posts()
    {
        var file = "\r\n  " + File(300m).Replace("~\n", "~\r\n\t  ");

        var (status, body) = await Upload(file);

        Assert.True(status == 200, $"{status}: {body}");
        Assert.Equal("paid", (await Fixture.Get<ClaimView>($"/api/claims/{_claim.Id}")).Status);
    }

    [Fact]
    public async Task an_835_whose_payment_is_not_its_claim_payments_less_its_provider_adjustments_is_a_400_naming_bpr02_and_both_totals()
    {
        var before = await Events();

        // 300 paid on the claim, a 20.00 withholding (PLB*WO): BPR02 should be 280.00, the file says 300.00.
        var (status, body) = await Upload(File(300m, plb: ("WO", "RECOUP-1", 20m)));

        Assert.Equal(400, status);
        var problem = System.Text.Json.JsonSerializer.Deserialize<ValidationProblemDetails>(body, System.Text.Json.JsonSerializerOptions.Web)!;
        var rule = Assert.Single(problem.Errors["BPR02"]);
        Assert.Contains("300.00", rule);
        Assert.Contains("20.00", rule);
        Assert.Contains("280.00", rule);
        Assert.Equal(before, await Events());

        // Balanced by the same withholding, it posts.
        var (fine, fineBody) = await Upload(File(280m, plb: ("WO", "RECOUP-1", 20m)));
        Assert.True(fine == 200, fineBody);
    }

    [Fact]
    public async Task billing_may_accept_an_unbalanced_835_and_the_remittance_records_who_and_both_totals()
    {
        var (status, body) = await Upload(File(310m), acceptUnbalanced: true);

        Assert.True(status == 200, $"{status}: {body}");
        var upload = System.Text.Json.JsonSerializer.Deserialize<RemittanceUpload>(body, System.Text.Json.JsonSerializerOptions.Web)!;
        var result = await Fixture.Call(As.Billing, s => s.Get.Url($"/api/remittances/{upload.Remittances.Single().RemittanceId}"));
        var json = System.Text.Json.Nodes.JsonNode.Parse(await result.ReadAsTextAsync())!["acceptedUnbalanced"]!;
        Assert.Equal(310m, json["paymentAmount"]!.GetValue<decimal>());
        Assert.Equal(300m, json["claimPayments"]!.GetValue<decimal>());
        Assert.Equal(0m, json["providerAdjustments"]!.GetValue<decimal>());
        Assert.Equal(As.Billing, json["acceptedByEmail"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(json["acceptedBy"]!.GetValue<string>()));

        // A balanced file records nothing of the kind.
        var (other, otherBody) = await Upload(File(300m, "CHK900002"));
        Assert.Equal(200, other);
        var balanced = System.Text.Json.Nodes.JsonNode.Parse(otherBody)!["remittances"]![0]!["remittanceId"]!.GetValue<Guid>();
        Assert.Null((await Fixture.Get<Remittance>($"/api/remittances/{balanced}")).AcceptedUnbalanced);
    }

    [Theory]
    // CLP is the 10th segment of the builder's transaction set (ST BPR TRN DTM N1 N3 N4 N1 LX CLP), SVC the 12th, CAS the 14th.
    [InlineData("CLP*{0}*1*450*300*", "CLP*{0}*1*450*-300*", "CLP04", 10, "negative")]
    [InlineData("CLP*{0}*1*450*300*", "CLP*{0}*1*-450*300*", "CLP03", 10, "negative")]
    [InlineData("SVC*HC:96365*450*300*", "SVC*HC:96365*450*-300*", "SVC03", 12, "negative")]
    [InlineData("BPR*I*300*", "BPR*I*-300*", "BPR02", 2, "never negative")]
    [InlineData("CLP*{0}*1*450*300*", "CLP*{0}*1*450*300.001*", "CLP04", 10, "more than two decimals")]
    [InlineData("CAS*CO*45*150~", "CAS*CO*45*150.005~", "CAS03", 14, "more than two decimals")]
    [InlineData("BPR*I*300*", "BPR*I*300.1234*", "BPR02", 2, "more than two decimals")]
    public async Task a_negative_amount_outside_a_reversal_or_an_amount_with_more_than_two_decimals_is_a_400_naming_the_element(
        string find, string replace, string element, int position, string rule)
    {
        var file = File(300m);
        Assert.Contains(string.Format(find, _claim.ControlNumber), file);
        var before = await Events();

        var (status, body) = await Upload(file.Replace(string.Format(find, _claim.ControlNumber), string.Format(replace, _claim.ControlNumber)));

        Assert.Equal(400, status);
        var problem = System.Text.Json.JsonSerializer.Deserialize<ValidationProblemDetails>(body, System.Text.Json.JsonSerializerOptions.Web)!;
        var message = Assert.Single(problem.Errors[element]);
        Assert.StartsWith($"at segment {position} of transaction set 0001", message);
        Assert.Contains(rule, message);
        Assert.Equal(before, await Events());
        Assert.Equal("filed", (await Fixture.Get<ClaimView>($"/api/claims/{_claim.Id}")).Status);
    }

    [Fact]
    public async Task a_file_with_more_segments_than_the_configured_cap_is_a_413_and_posts_nothing()
    {
        var configuration = Host.Services.GetRequiredService<IConfiguration>();
        var file = File(300m);
        var before = await Events();
        configuration["Remittances:MaxSegments"] = "21";
        try
        {
            // ISA GS, 17 segments in the set, GE IEA: 21 segments pass; two more PLB segments do not.
            var (fits, fitsBody) = await Upload(file);
            Assert.True(fits == 200, fitsBody);
            var (status, body) = await Upload(File(300m, "CHK900003", ("WO", "A", 0m), ("WO", "B", 0m)));
            Assert.Equal(413, status);
            Assert.Contains("21", body);
            Assert.Contains("Remittances:MaxSegments", body);
        }
        finally
        {
            configuration["Remittances:MaxSegments"] = null;
        }

        Assert.Single((await Fixture.Get<RemittancePage>("/api/remittances")).Items);
        Assert.True(await Events() > before);
    }
}

/// <summary>A body of unknown length (chunked) is read only up to the limit, then refused.</summary>
public class capping_an_835_upload(AppFixture fixture) : IntegrationContext(fixture)
{
    [Fact]
    public async Task a_body_without_content_length_is_a_413_once_it_passes_20_mb()
    {
        var client = Host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", await Fixture.TokenFor(As.Billing));
        // A valid start, then segments of 60,000 characters: the byte limit comes long before the segment cap.
        var start = "ISA*00*          *00*          *ZZ*A              *ZZ*B              *261127*0215*^*00501*000000001*1*T*:~GS*HP*A*B*20261127*0215*7*X*005010X221A1~ST*835*0001~";
        var segment = "NTE*" + new string('A', 60_000) + "~";
        var body = new NoLengthStream(Encoding.ASCII.GetBytes(start + string.Concat(Enumerable.Repeat(segment, 360))));
        using var content = new StreamContent(body);

        var response = await client.PostAsync("/api/remittances", content, TestContext.Current.CancellationToken);

        Assert.Null(content.Headers.ContentLength);
        Assert.Equal(System.Net.HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.True(body.Consumed < 21 * 1024 * 1024 + 100_000, $"{body.Consumed:N0} bytes read");
    }

    /// <summary>A stream that does not say how long it is, so the request goes without Content-Length.</summary>
    private sealed class NoLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public long Consumed => Position;
        public override bool CanSeek => false;
    }
}

/// <summary>The reader's rules and its streaming, without the host.</summary>
public class reading_835_amounts
{
    private const string Isa = "ISA*00*          *00*          *ZZ*A              *ZZ*B              *261127*0215*^*00501*000000001*1*T*:~";

    private static string Set(params string[] body)
    {
        var segments = new List<string> { "ST*835*0001*005010X221A1", "BPR*I*0*C*ACH", "TRN*1*T1*1" };
        segments.AddRange(body);
        segments.Add($"SE*{segments.Count + 1}*0001");
        return Isa + "GS*HP*A*B*20261127*0215*7*X*005010X221A1~" + string.Join("~", segments) + "~GE*1*7~IEA*1*000000001~";
    }

    [Fact]
    public void a_reversal_carries_negative_claim_and_line_amounts_and_cas_and_plb_may_be_negative_anywhere()
    {
        var read = Remittance835Reader.Read(X12Reader.Read(Set(
            "CLP*KB1*22*-450*-300*0*12*PCN1", "SVC*HC:96365*-450*-300**1", "CAS*CO*45*-150", "AMT*B6*-300",
            "CLP*KB2*1*450*310*0*12*PCN2", "SVC*HC:96365*450*310**1", "CAS*CO*45*150", "CAS*OA*94*-10",
            "PLB*1*20261231*FB:T1*-10"))).Single();

        Assert.Equal([-300m, 310m], read.Claims.Select(c => c.Paid));
        Assert.Equal(-150m, read.Claims[0].Lines[0].Adjustments.Single().Amount);
        Assert.Equal(-10m, read.Claims[1].Lines[0].Adjustments[1].Amount);
        Assert.Equal(-10m, read.ProviderAdjustments.Single().Amount);
    }

    [Fact]
    public void an_allowed_amount_is_negative_only_in_a_reversal()
    {
        var error = Assert.Throws<X12ElementException>(() => Remittance835Reader.Read(X12Reader.Read(Set(
            "CLP*KB2*1*450*300*0*12*PCN2", "SVC*HC:96365*450*300**1", "AMT*B6*-300"))));

        Assert.Equal("AMT02", error.Element);
        Assert.StartsWith("at segment 6 of transaction set 0001", error.Rule);
    }

    [Fact]
    public async Task the_reader_streams_a_20_mb_file_holding_only_the_segment_it_reads()
    {
        // A 20 MB 835 made on the fly (never a string here either): 3 segments (72 characters) per claim payment.
        const int claims = 310_000;
        var header = Isa + "GS*HP*A*B*20261127*0215*7*X*005010X221A1~ST*835*0001*005010X221A1~BPR*I*0*C*ACH~TRN*1*T1*1~";
        IEnumerable<string> Parts()
        {
            yield return header;
            for (var i = 0; i < claims; i++) yield return $"CLP*KB{i:D10}*4*450*0*0*12~SVC*HC:96365*450*0**1~CAS*CO*50*450~\n";
            yield return $"SE*{claims * 3 + 4}*0001~GE*1*7~IEA*1*000000001~";
        }

        using var text = new PartsReader(Parts());
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long? midway = null;
        var segments = 0;
        await X12Reader.ReadAsync(text, _ => new Probe(() =>
        {
            if (++segments == claims * 3 / 2) midway = GC.GetTotalMemory(forceFullCollection: true);
        }), ct: TestContext.Current.CancellationToken);

        Assert.True(text.Characters > 20_000_000, $"{text.Characters} characters");
        Assert.Equal(claims * 3 + 4, segments);
        // Read whole, the text alone would hold 40 MB (UTF-16) and its segments millions of objects; streamed, what is live
        // halfway through is the reader's buffers.
        var held = midway!.Value - baseline;
        Assert.True(held < 8_000_000, $"{held:N0} bytes held halfway through a {text.Characters:N0}-character file");
    }

    private sealed class Probe(Action onSegment) : IX12SetReader
    {
        public void Segment(X12Segment segment, int position) => onSegment();
    }

    /// <summary>A text made of parts produced as they are read.</summary>
    private sealed class PartsReader(IEnumerable<string> parts) : TextReader
    {
        private readonly IEnumerator<string> _parts = parts.GetEnumerator();
        private string _current = "";
        private int _at;

        public long Characters { get; private set; }

        public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

        public override int Read(Span<char> buffer)
        {
            while (_at == _current.Length)
            {
                if (!_parts.MoveNext()) return 0;
                _current = _parts.Current;
                _at = 0;
            }

            var n = Math.Min(buffer.Length, _current.Length - _at);
            _current.AsSpan(_at, n).CopyTo(buffer);
            _at += n;
            Characters += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<char> buffer, CancellationToken ct = default) => ValueTask.FromResult(Read(buffer.Span));
    }
}
