using Alba;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;

namespace KetamineBilling.Tests.Features.Patients;

/// <summary>Issue 15's routes over HTTP: coverage changed and ended, copay assistance, series with boosters, and the split before saving.</summary>
public class coverage_and_sessions_over_http(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));
    private Guid _patient;
    private string Url(string tail) => $"/api/patients/{_patient}/{tail}";

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.PricedCode("96365", 450.00m);
        await Fixture.PricedCode("J3490", 60.00m);
        _patient = await Fixture.RegisteredPatient("Coverage", "Tester");
    }

    private async Task<ValidationProblemDetails> Refused(string tail, object body, int status)
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(body).ToUrl(Url(tail));
            s.StatusCodeShouldBe(status);
        });
        return (await result.ReadAsJsonAsync<ValidationProblemDetails>())!;
    }

    private async Task<int> EventCount() => (await Fixture.EventsOf(_patient)).Count;

    [Fact]
    public async Task a_coverage_changed_from_a_date_is_the_one_a_claim_for_a_later_date_uses_and_an_ended_one_is_refused()
    {
        var payer = await Fixture.Payer($"Coverage Payer {Guid.NewGuid():N}"[..24], $"CV{Guid.NewGuid():N}"[..10]);
        var coverage = await Fixture.Coverage(_patient, payer, "OLD-1");
        // With its follow-up work (the authorization check appends to the account later): the counts below see it all.
        var session = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: Today.AddDays(-2)) with { Funding = ["insurance"] }));

        var change = new ChangeCoverage(Guid.NewGuid(), Today.AddDays(-10), "NEW-2", "primary", "GRP-7781", 25m, 20m);
        var changed = await Fixture.Post<CoverageChanged>(Url($"coverages/{coverage}/changes"), change);
        await Fixture.Post<CoverageChanged>(Url($"coverages/{coverage}/changes"), change, 200);
        var conflict = await Refused($"coverages/{coverage}/changes", change with { Copay = 30m }, 409);
        Assert.Contains("other content", conflict.Detail);

        var history = await Fixture.Get<CoverageHistory>(Url("coverage-history"));
        Assert.Equal(Today.AddDays(-11), history.Coverages.Single(c => c.CoverageId == coverage).ActiveTo);
        Assert.Equal("NEW-2", history.Coverages.Single(c => c.CoverageId == changed.NewCoverageId).MemberId);
        Assert.Single(history.Changes);

        var claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), _patient, payer, [session.SessionId]));
        Assert.Equal(changed.NewCoverageId, await CoverageOf(claim.Id));

        // Ended before the second session's date: that session cannot be claimed to this payer.
        var later = await Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: Today) with { Funding = ["insurance"] });
        await Fixture.Post<CoverageRecorded>(Url($"coverages/{changed.NewCoverageId}/end"), new EndCoverage(Today.AddDays(-1), "plan terminated"), 200);
        var refused = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new FileClaim(Guid.NewGuid(), _patient, payer, [later.SessionId])).ToUrl("/api/claims");
            s.StatusCodeShouldBe(422);
        });
        Assert.Contains("payerId", (await refused.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors.Keys);

        // Refused inputs append nothing: a date outside the period, a replaced coverage, an end of a coverage already ended on another day.
        var before = await EventCount();
        Assert.Contains("effectiveFrom", (await Refused($"coverages/{changed.NewCoverageId}/changes",
            change with { ChangeId = Guid.NewGuid(), EffectiveFrom = Today.AddDays(5) }, 422)).Errors.Keys);
        Assert.Contains("coverageId", (await Refused($"coverages/{coverage}/end", new EndCoverage(Today.AddDays(-20), "x"), 422)).Errors.Keys);
        await Refused($"coverages/{changed.NewCoverageId}/end", new EndCoverage(Today, "plan terminated"), 409);
        Assert.Contains("endedOn", (await Refused($"coverages/{coverage}/end", new EndCoverage(null, "x"), 400)).Errors.Keys);
        await Refused($"coverages/{Guid.NewGuid()}/end", new EndCoverage(Today, "x"), 404);
        Assert.Equal(before, await EventCount());
    }

    private async Task<Guid> CoverageOf(Guid claimId)
    {
        await using var session = Store.QuerySession(AppFixture.Clinic);
        return (await session.LoadAsync<Claim>(claimId, TestContext.Current.CancellationToken))!.CoverageId;
    }

    [Fact]
    public async Task copay_assistance_is_recorded_with_the_coverages_and_a_zero_maximum_is_refused()
    {
        var program = new RecordCopayAssistance(Guid.NewGuid(), "Spravato withMe", "SWM-1234", 8000m);
        await Fixture.Post<CopayAssistanceRecorded>(Url("copay-assistance"), program);
        await Fixture.Post<CopayAssistanceRecorded>(Url("copay-assistance"), program, 200);

        var refused = await Refused("copay-assistance", program with { ProgramId = Guid.NewGuid(), AnnualMaximum = 0m }, 400);

        Assert.Contains("annualMaximum", refused.Errors.Keys);
        var recorded = Assert.Single((await Fixture.Get<CoverageHistory>(Url("coverage-history"))).CopayAssistance);
        Assert.Equal(("Spravato withMe", "SWM-1234", 8000m), (recorded.ProgramName, recorded.MemberId, recorded.AnnualMaximum));
    }

    [Fact]
    public async Task a_booster_in_a_series_is_counted_on_the_series_and_marked_on_the_balance()
    {
        var series = Guid.NewGuid();
        await Fixture.Post<TreatmentSeriesPlanned>(Url("series"), new PlanSeries(series, "Initial six", 6, null));
        await Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: Today.AddDays(-3)) with { SeriesId = series });
        var booster = await Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: Today.AddDays(-1)) with { SeriesId = series, Booster = true });

        var view = Assert.Single(await Fixture.Get<List<SeriesView>>(Url("series")));

        Assert.Equal((2, 1), (view.Delivered, view.Boosters));
        Assert.True((await Fixture.BalanceOf(_patient)).Sessions.Single(s => s.SessionId == booster.SessionId).Booster);
        Assert.Contains("seriesId", (await Refused("sessions", Scenarios.Session() with { SeriesId = Guid.NewGuid() }, 422)).Errors.Keys);
    }

    [Fact]
    public async Task the_preview_answers_the_split_of_each_line_and_appends_nothing()
    {
        var before = await EventCount();
        var command = Scenarios.Session(deliveredOn: Today.AddDays(-1), lines: [("96365", 1), ("J3490", 1)]);

        var split = await Fixture.Post<SessionSplit>(Url("sessions/preview"), command, 200);

        // Self-pay: the patient owes all of it (no cash prices here).
        Assert.Equal((510m, 510m), (split.Session.Charge, split.Session.PatientDue));
        Assert.Equal([450m, 60m], split.Session.Lines.Select(l => l.PatientDue));
        Assert.Contains("lines[0].units", (await Refused("sessions/preview", command with { Lines = [new SessionLineInput("96365", 0)] }, 400)).Errors.Keys);
        Assert.Equal(before, await EventCount());
        Assert.Empty((await Fixture.BalanceOf(_patient)).Sessions);
    }
}
