using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Eligibility.X12;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Features.Claims;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Eligibility;

/// <summary>270 eligibility inquiries written (issue 20), read back by the third-party parser and compared with the guide's example.</summary>
public class writing_270_inquiries
{
    private static readonly ClinicProfile Clinic = new()
    {
        Name = "Lakeside Ketamine Clinic", Npi = "1543210987", TaxId = "36-1234567", SubmitterId = "LAKESIDEKC01", Taxonomy = "2084P0800X"
    };

    /// <summary>LinuxForHealth/x12 src/tests/resources/270_005010X279A1/subscriber-health-benefit-check.270.</summary>
    private const string Published = """
        ISA*03*9876543210*01*9876543210*30*000000005      *30*12345          *131031*1147*^*00501*000000907*1*T*:~
        GS*HS*000000005*54321*20131031*1147*1*X*005010X279A1~
        ST*270*1234*005010X279A1~
        BHT*0022*13*10001234*20060501*1319~
        HL*1**20*1~
        NM1*PR*2*ABC COMPANY*****PI*842610001~
        HL*2*1*21*1~
        NM1*1P*2*BONE AND JOINT CLINIC*****SV*2000035~
        HL*3*2*22*0~
        TRN*1*93175-012547*9877281234~
        NM1*IL*1*SMITH*ROBERT****MI*11122333301~
        DMG*D8*19430519~
        DTP*291*D8*20060501~
        EQ*30~
        SE*13*1234~
        GE*1*1~
        IEA*1*000000907~
        """;

    private static string[] Skeleton(IEnumerable<ThirdPartyX12Reader.Segment> segments) => segments
        .Select(s => s.Tag switch
        {
            "HL" => $"HL:{s.Elements[2]}",
            "NM1" => $"NM1:{s.Elements[0]}",
            "DTP" => $"DTP:{s.Elements[0]}",
            "ST" or "BHT" or "TRN" or "DMG" or "EQ" or "SE" => s.Tag,
            _ => null
        })
        .OfType<string>().ToArray();

    [Fact]
    public async Task a_subscribers_inquiry_follows_the_guides_example_and_reads_back_with_the_third_party_parser()
    {
        var story = new ClaimStory();
        var account = story.Unclaimed();
        var inquiry = new Eligibility270(account, account.Coverages[0], story.Payer, new DateOnly(2026, 12, 7), "KB270-0001-1", ["30"]);

        var file = new Eligibility270Writer(Clinic, "CLRHSE001", production: false).Write([inquiry], 42, ClaimStory.Now);

        var ours = await ThirdPartyX12Reader.ReadAsync(file);
        Assert.True(ours.Ok, ours.Error);
        var published = await ThirdPartyX12Reader.ReadAsync(Published);
        Assert.True(published.Ok, published.Error);
        Assert.Equal(Skeleton(published.Transactions!.Single().Segments), Skeleton(ours.Transactions!.Single().Segments));
        var segments = X12Reader.Read(file).Transactions.Single().Segments.Select(s => s.ToString()).ToList();
        Assert.Contains("TRN*1*KB270-0001-1*1361234567", segments);
        Assert.Contains("NM1*IL*1*LOVELACE*ADA****MI*M123", segments.Select(s => s.ToUpperInvariant()));
        Assert.Contains("DTP*291*D8*20261207", segments);
        Assert.Contains("NM1*1P*2*LAKESIDE KETAMINE CLINIC*****XX*1543210987", segments);
    }

    [Fact]
    public void a_dependents_inquiry_names_the_subscriber_in_2000c_and_asks_about_the_patient_in_2000d()
    {
        var story = new ClaimStory();
        var account = story.Unclaimed();
        var coverage = account.Coverages[0] with { Subscriber = new Subscriber("Grace", "Hopper", new DateOnly(1960, 12, 9), "spouse") };
        var file = new Eligibility270Writer(Clinic, "CLRHSE001", production: false)
            .Write([new Eligibility270(account, coverage, story.Payer, new DateOnly(2026, 12, 7), "KB270-0002-1", ["MH", "98"])], 43, ClaimStory.Now);

        var segments = X12Reader.Read(file).Transactions.Single().Segments.Select(s => s.ToString().ToUpperInvariant()).ToList();
        var hl22 = segments.IndexOf("HL*3*2*22*1");
        var hl23 = segments.IndexOf("HL*4*3*23*0");
        Assert.True(hl22 > 0 && hl23 > hl22, string.Join('~', segments));
        Assert.Equal("NM1*IL*1*HOPPER*GRACE****MI*M123", segments[hl22 + 1]);
        Assert.Equal(["TRN*1*KB270-0002-1*1361234567", "NM1*03*1*LOVELACE*ADA"], segments.Skip(hl23 + 1).Take(2));
        Assert.Equal(["EQ*MH", "EQ*98"], segments.Where(s => s.StartsWith("EQ*", StringComparison.Ordinal)));
    }
}
