using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Fees;
using Wolverine.Http;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Locations;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Claims;

/// <summary>
/// Claim lines coded as payers need them (issue 19): modifiers, the place of service, the drug's NDC with the quantity given,
/// each session's own authorization. Decisions and the 837 written from them, without a host.
/// </summary>
public class coding_claim_lines
{
    private static readonly DateTimeOffset Now = ClaimStory.Now;

    private static IDictionary<string, string[]> Errors(Microsoft.AspNetCore.Mvc.ProblemDetails problem) =>
        problem is Microsoft.AspNetCore.Http.HttpValidationProblemDetails v ? v.Errors : new Dictionary<string, string[]>();

    [Theory]
    [InlineData("00409205101", "00409205101")]
    [InlineData("00409-2051-01", "00409205101")]
    [InlineData("0409-2051-01", "00409205101")] // 4-4-2: the labeler code gets its leading zero
    [InlineData("50458-028-02", "50458002802")] // 5-3-2: Spravato 56 mg kit, the product code padded
    [InlineData("12345-6789-1", "12345678901")] // 5-4-1: the package code padded
    [InlineData(" 0409-2051-01 ", "00409205101")]
    public void an_ndc_as_printed_becomes_the_eleven_digits_claims_carry(string printed, string expected)
    {
        Assert.Equal(expected, LineCoding.Ndc(printed, out var problem));
        Assert.Null(problem);
        Assert.Equal($"{expected[..5]}-{expected[5..9]}-{expected[9..]}", LineCoding.PrintNdc(expected));
    }

    [Theory]
    [InlineData("0409205101", "10 digits without hyphens")]
    [InlineData("0409-205-01", "11 digits, or 10 digits printed 4-4-2, 5-3-2 or 5-4-1")]
    [InlineData("004092051012", "11 digits, or 10 digits")]
    [InlineData("0409-2051-0A", "digits and hyphens")]
    [InlineData("", "digits and hyphens")]
    [InlineData("0409--2051", "digits and hyphens")]
    public void an_ndc_whose_segments_cannot_be_known_is_refused_with_the_reason(string printed, string reason)
    {
        Assert.Null(LineCoding.Ndc(printed, out var problem));
        Assert.Contains(reason, problem);
    }

    [Fact]
    public void modifiers_are_two_characters_four_at_most_never_repeated_and_kept_in_the_order_given()
    {
        var problems = new ValidationProblems();
        Assert.Equal(["59", "XU", "95"], LineCoding.Modifiers(["59", "xu", " 95 "], "m", problems));
        Assert.False(problems.Any);

        LineCoding.Modifiers(["25", "5", "JZ", "jz"], "lines[0].modifiers", problems);
        LineCoding.Modifiers(["25", "59", "95", "GT", "KX"], "lines[1].modifiers", problems);
        LineCoding.Modifiers(["2-"], "lines[2].modifiers", problems);
        var errors = Errors(problems.ToProblemDetails());
        Assert.Equal(["lines[0].modifiers[1]", "lines[0].modifiers[3]", "lines[1].modifiers", "lines[2].modifiers[0]"], errors.Keys.Order());
        Assert.Contains("two-character modifier", errors["lines[0].modifiers[1]"][0]);
        Assert.Contains("repeats modifier JZ", errors["lines[0].modifiers[3]"][0]);
        Assert.Contains("at most 4 modifiers", errors["lines[1].modifiers"][0]);
    }

    [Fact]
    public void a_drug_needs_its_ndc_a_positive_quantity_and_a_unit_claims_know()
    {
        var problems = new ValidationProblems();
        Assert.Equal(new DrugGiven("00409205101", 2.5m, "ML"), LineCoding.Drug("0409-2051-01", 2.5m, "ml", "d", problems));
        Assert.False(problems.Any);

        Assert.Null(LineCoding.Drug("0409205101", 0m, "CC", "lines[1].drug", problems));
        Assert.Null(LineCoding.Drug("00409205101", 1.2345m, "UN", "lines[2].drug", problems));
        var errors = Errors(problems.ToProblemDetails());
        Assert.Equal(["lines[1].drug.ndc", "lines[1].drug.quantity", "lines[1].drug.unit", "lines[2].drug.quantity"], errors.Keys.Order());
        Assert.Contains("UN, ML, GR, ME, F2", errors["lines[1].drug.unit"][0]);
    }

    private static readonly ClinicLocations Locations = new ClinicLocationsProjection().Create(
        new LocationAdded(ClinicLocations.StreamId, "main", "Main clinic", new PostalAddress("1 Main St", null, "Springfield", "IL", "62701"), "11", Now.AddDays(-90)));

    private static DeliverSession Session(Guid id, string? placeOfService, params SessionLineInput[] lines) =>
        new(id, ClaimStory.Served, 45, "main", lines, ["F33.2"], "dr-a", ["insurance"], PlaceOfService: placeOfService);

    private static SessionDelivered Deliver(PatientAccount account, DeliverSession command)
    {
        Assert.Same(WolverineContinue.NoProblems,
            DeliverSessionEndpoint.Validate(command, new ClinicCalendar(new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Now), TimeZoneInfo.Utc)));
        var outcome = DeliverSessionEndpoint.Decide(account, command, Fees(), null, new() { Id = "dr-a", Name = "Dana Reyes", Npi = "1234567893" }, Now, Locations);
        return Assert.IsType<SessionDelivered>(outcome.EventsFor(account.Id).First());
    }

    private static FeeSchedule Fees()
    {
        var schedule = new FeeSchedule { Id = FeeSchedule.StreamId };
        var projection = new FeeScheduleProjection();
        foreach (var (code, description, price) in new[] { ("96365", "IV infusion, initial hour", 450m), ("J3490", "Unclassified drug (ketamine HCl)", 60m),
                     ("99214", "Office visit, established", 180m) })
        {
            projection.Apply(new FeePriceSet(schedule.Id, code, description, price, new DateOnly(2026, 1, 1), Now.AddDays(-100)), schedule);
        }

        return schedule;
    }

    [Fact]
    public void a_session_keeps_its_lines_coding_and_its_place_of_service_or_its_locations_and_the_same_request_again_is_a_replay()
    {
        var story = new ClaimStory();
        var account = story.Unclaimed();
        var command = Session(Guid.NewGuid(), "10",
            new SessionLineInput("96365", 1, ["xu", "95"]), new SessionLineInput("J3490", 1, null, new DrugInput("0409-2051-01", 2m, "ML")));

        var delivered = Deliver(account, command);

        Assert.Equal("10", delivered.PlaceOfService);
        Assert.Equal(["XU", "95"], delivered.Lines[0].ModifierList);
        Assert.Equal((null, new DrugGiven("00409205101", 2m, "ML")), (delivered.Lines[0].Drug, delivered.Lines[1].Drug));
        Assert.Equal("11", Deliver(account, Session(Guid.NewGuid(), null, new SessionLineInput("96365", 1))).PlaceOfService);

        // The same request (new lists, same values) is the same charge; other modifiers are another one.
        var recorded = account.Then(delivered);
        var replay = DeliverSessionEndpoint.Decide(recorded, command with { Lines = [new SessionLineInput("96365", 1, ["XU", "95"]), command.Lines![1]] }, Fees(), null,
            new() { Id = "dr-a", Name = "Dana Reyes", Npi = "1234567893" }, Now, Locations);
        Assert.IsType<Outcome.Replayed>(replay);
        Assert.Empty(replay.EventsFor(account.Id));
        var other = DeliverSessionEndpoint.Decide(recorded, command with { Lines = [new SessionLineInput("96365", 1, ["59"]), command.Lines![1]] }, Fees(), null,
            new() { Id = "dr-a", Name = "Dana Reyes", Npi = "1234567893" }, Now, Locations);
        Assert.Equal(409, Assert.IsType<Outcome.Rejected>(other).Status);
    }

    /// <summary>Three sessions: two in the office under one authorization, one by telehealth at home under another.</summary>
    private static (Claim Claim, PatientAccount Account, ClaimFiled Filed, ClaimStory Story) ThreeSessions()
    {
        var story = new ClaimStory();
        var account = story.Unclaimed();
        var sessions = new List<Guid>();
        (string? Place, string Authorization)[] plan = [("11", "PA-1001"), ("10", "PA-2002"), (null, "PA-1001")];
        foreach (var (place, authorization) in plan)
        {
            var delivered = Deliver(account, Session(Guid.NewGuid(), place,
                new SessionLineInput("99214", 1, ["25"]), new SessionLineInput("J3490", 1, null, new DrugInput("0409-2051-01", 1.5m, "ML"))));
            account = account.Then(delivered, new SessionAuthorizationChecked(account.Id, delivered.SessionId, Guid.NewGuid(), authorization,
                AuthorizationFlag.None, Now, story.Payer.Id));
            sessions.Add(delivered.SessionId);
        }

        var outcome = FileClaimEndpoint.Decide(account, new FileClaim(story.ClaimId, story.PatientId, story.Payer.Id, sessions), story.Payer, null,
            new ClinicProfile(), Now);
        var filed = Assert.IsType<ClaimFiled>(outcome.EventsFor(story.ClaimId).Single());
        return (Given.Aggregate<Claim>(filed), account, filed, story);
    }

    [Fact]
    public void a_claim_carries_the_authorization_and_place_most_lines_share_and_each_line_its_own()
    {
        var (claim, _, filed, _) = ThreeSessions();

        Assert.Equal(("PA-1001", "11"), (filed.AuthorizationNumber, filed.PlaceOfService));
        Assert.Equal(["PA-1001", "PA-1001", "PA-2002", "PA-2002", "PA-1001", "PA-1001"], claim.Lines.Select(l => l.AuthorizationNumber));
        Assert.Equal(["11", "11", "10", "10", "11", "11"], claim.Lines.Select(l => l.Place));
        Assert.All(claim.Lines.Where(l => l.Code == "99214"), l => Assert.Equal(["25"], l.Modifiers));
        Assert.All(claim.Lines.Where(l => l.Code == "J3490"), l => Assert.Equal(new DrugGiven("00409205101", 1.5m, "ML"), l.Drug));
        Assert.Empty(filed.Warnings);
    }

    [Fact]
    public void a_drug_code_without_an_ndc_is_filed_with_a_warning()
    {
        var story = new ClaimStory();
        var account = story.Unclaimed();
        var delivered = Deliver(account, Session(Guid.NewGuid(), null, new SessionLineInput("J3490", 1)));
        var outcome = FileClaimEndpoint.Decide(account.Then(delivered), new FileClaim(story.ClaimId, story.PatientId, story.Payer.Id, [delivered.SessionId]),
            story.Payer, null, new ClinicProfile(), Now);

        var filed = Assert.IsType<ClaimFiled>(outcome.EventsFor(story.ClaimId).Single());
        Assert.Contains(filed.Warnings, w => w.StartsWith("line 1 (J3490, 05/20/2026): no NDC"));
    }

    [Fact]
    public async Task the_837_puts_modifiers_place_drug_quantity_and_a_differing_authorization_on_the_line_and_reads_in_a_third_party_parser()
    {
        var (claim, account, _, story) = ThreeSessions();
        var clinic = new ClinicProfile
        {
            Name = "Prairie Ketamine Clinic", AddressLines = ["10 Elm St", "Springfield, IL 62701"], Phone = "2175550100", Npi = "1234567893", TaxId = "12-3456789",
            Taxonomy = "2084P0800X", SubmitterId = "KB0001"
        };
        var coverage = account.Coverages.Single();
        var file = new Claim837Writer(clinic, "CLRHSE001", production: false).Write(
            [new Claim837(claim, account, coverage, story.Payer, null)], 7, Now);

        var read = await ThirdPartyX12Reader.ReadAsync(file);
        Assert.True(read.Ok, read.Error);
        var segments = Assert.Single(read.Transactions!).Segments;
        Assert.Equal("11:B:1", segments.Single(s => s.Tag == "CLM").Elements[4]);
        // 2300 REF*G1 once, then one REF*G1 on each line whose authorization differs: the two telehealth lines.
        var g1 = segments.Select((s, i) => (s, i)).Where(x => x.s.Tag == "REF" && x.s.Elements[0] == "G1").ToList();
        Assert.Equal(["PA-1001", "PA-2002", "PA-2002"], g1.Select(x => x.s.Elements[1]));
        Assert.True(g1[0].i < segments.ToList().FindIndex(s => s.Tag == "LX"));
        var sv1 = segments.Where(s => s.Tag == "SV1").Select(s => s.Elements).ToList();
        Assert.Equal(["HC:99214:25", "180", "UN", "1", "", "", "1"], sv1[0]);
        // SV105 only on the lines given elsewhere than the claim's place.
        Assert.Equal(["", "", "10", "10", "", ""], sv1.Select(e => e[4]));
        Assert.Equal(3, segments.Count(s => s.Tag == "LIN" && s.Elements.SequenceEqual(["", "N4", "00409205101"])));
        Assert.Equal(3, segments.Count(s => s.Tag == "CTP" && s.Elements.SequenceEqual(["", "", "", "1.5", "ML"])));
        // Within a line: SV1, DTP, REF*G1 (when its own), REF*6R, then the drug (2410).
        var third = segments.SkipWhile(s => !(s.Tag == "LX" && s.Elements[0] == "4")).Skip(1).TakeWhile(s => s.Tag != "LX").Select(s => s.Tag == "REF" ? $"REF*{s.Elements[0]}" : s.Tag);
        Assert.Equal(["SV1", "DTP", "REF*G1", "REF*6R", "LIN", "CTP"], third);
    }
}
