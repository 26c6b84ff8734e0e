using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Studies;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Studies;

public class study_sponsors(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));

    [Fact]
    public async Task a_study_patient_pays_nothing_and_the_sponsor_owes_its_rate_until_it_pays()
    {
        await Fixture.PricedCode("96365", 450m);
        await Fixture.PricedCode("J3490", 60m);
        var patient = await Fixture.RegisteredPatient("Tobiah", "Vanterpool");
        var study = Guid.NewGuid();
        await Fixture.Post<StudyCreated>("/api/studies", new RegisterStudy(study, "Meridian Neuro", "MN-KET-204", 400m));
        await Fixture.Post<object>($"/api/studies/{study}/enrollments", new EnrollStudyPatient(patient, "SUBJ-0042"));

        for (var i = 0; i < 2; i++)
        {
            await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient,
                Scenarios.Session(deliveredOn: Today.AddDays(-10 + i), lines: [("96365", 1), ("J3490", 1)]) with { Funding = ["study"] }));
        }

        var balance = await Fixture.BalanceOf(patient);
        Assert.Equal((0m, 800m, 220m), (balance.PatientDue, balance.SponsorPending, balance.TotalAdjusted));
        await Fixture.Post<SponsorPaymentReceived>($"/api/studies/{study}/payments", new RecordSponsorPayment("WIRE-7781", 500m, Today));
        await Fixture.Post<SponsorPaymentReceived>($"/api/studies/{study}/payments", new RecordSponsorPayment("WIRE-7781", 500m, Today), 200);
        await Fixture.Post<Microsoft.AspNetCore.Mvc.ValidationProblemDetails>($"/api/studies/{study}/payments", new RecordSponsorPayment("WIRE-7782", 301m, Today), 422);

        balance = await Fixture.BalanceOf(patient);
        Assert.Equal((0m, 300m, 500m), (balance.PatientDue, balance.SponsorPending, balance.TotalPaid));
        var statement = await Fixture.Get<StudyStatement>($"/api/studies/{study}/statements/{Today:yyyy-MM}");
        Assert.All(statement.SessionsCovered, s => Assert.Equal("SUBJ-0042", s.SubjectId));
        Assert.Equal(300m, statement.ClosingBalance);
    }

    [Fact]
    public async Task a_trial_at_no_cost_covers_the_session_with_nothing_owed_by_the_sponsor_or_the_patient()
    {
        await Fixture.PricedCode("96365", 450m);
        await Fixture.PricedCode("J3490", 60m);
        var patient = await Fixture.RegisteredPatient("Ottilie", "Brathwaite");
        var study = Guid.NewGuid();
        await Fixture.Post<Microsoft.AspNetCore.Mvc.ValidationProblemDetails>("/api/studies", new RegisterStudy(study, "Meridian Neuro", "MN-FREE-1", -0.01m), 400);
        await Fixture.Post<StudyCreated>("/api/studies", new RegisterStudy(study, "Meridian Neuro", "MN-FREE-1", 0m));
        await Fixture.Post<object>($"/api/studies/{study}/enrollments", new EnrollStudyPatient(patient, "SUBJ-0007"));

        await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient,
            Scenarios.Session(deliveredOn: Today.AddDays(-1), lines: [("96365", 1), ("J3490", 1)]) with { Funding = ["study"] }));

        var balance = await Fixture.BalanceOf(patient);
        Assert.Equal((0m, 0m, 510m, 0m), (balance.PatientDue, balance.SponsorPending, balance.TotalAdjusted, balance.TotalOpen));
        var statement = await Fixture.Get<StudyStatement>($"/api/studies/{study}/statements/{Today.AddDays(-1):yyyy-MM}");
        Assert.Equal(("SUBJ-0007", 0m), (Assert.Single(statement.SessionsCovered).SubjectId, statement.ClosingBalance));
        await Fixture.Post<Microsoft.AspNetCore.Mvc.ValidationProblemDetails>($"/api/studies/{study}/payments", new RecordSponsorPayment("WIRE-1", 1m, Today), 422);
    }
}
