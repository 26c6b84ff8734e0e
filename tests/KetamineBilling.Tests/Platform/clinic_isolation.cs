using KetamineBilling.Features.PatientBilling;
using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Text;
using System.Text.Json;
using Alba;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Locations;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Features.Providers;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Features.Studies;
using KetamineBilling.Tests.Infrastructure;
using KetamineBilling.Tests.Features.Maintenance;
using Marten;
using Marten.Events;
using Microsoft.AspNetCore.Routing.Patterns;
using static KetamineBilling.Tests.Infrastructure.Remittance835Builder;

namespace KetamineBilling.Tests.Platform;

/// <summary>
/// Issue 16: clinics are tenants. A clinic-A token meets clinic B's data on no route: every route with an id is called
/// with clinic B's ids (a matrix over the routes, like the role matrix), reads are 404 (and the same reads with a
/// clinic-B token are not: the ids are real), writes change nothing in clinic B. An 835 posted under clinic A never
/// matches a clinic-B claim.
/// </summary>
public class clinic_isolation(AppFixture fixture) : IntegrationContext(fixture)
{
    // The clinic's today (its zone), not UTC's: from midnight UTC to midnight in the clinic, UTC is a day ahead.
    private DateOnly Today => Fixture.Host.Services.GetRequiredService<KetamineBilling.Infrastructure.ClinicCalendar>().Today();

    /// <summary>Clinic B's world, made through the API by a billing administrator acting for clinic B: route parameter → id.</summary>
    private async Task<Dictionary<string, string>> ClinicBWorldAsync()
    {
        using var acting = Fixture.ActingFor(AppFixture.OtherClinic);
        await Fixture.PricedCode("96365", 450m);
        var payer = await Fixture.Payer("Clinic B Payer", "CLINB1");
        var patient = await Fixture.RegisteredPatient("Bea", "Otherclinic");
        var coverage = await Fixture.Coverage(patient, payer);
        var session = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient, Scenarios.Session() with { Funding = ["insurance"] }));
        var payment = await Fixture.Post<PaymentResult>($"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), "cash", 25m, Today, null));
        var claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), patient, payer, [session.SessionId]));
        var authorization = await Fixture.Post<AuthorizationView>("/api/prior-authorizations", new RequestPriorAuthorization(Guid.NewGuid(), patient, payer,
            ["96365"], 6, ["F33.2"], new MedicalNecessityEvidence(["escitalopram", "venlafaxine"], 20, 33, null), null));
        var employer = (await Fixture.Post<EmployerCreated>("/api/employers", new CreateEmployer("Clinic B Employer", null, 300m, null, null, null, null))).Id;
        var grant = (await Fixture.Post<GrantCreated>("/api/grants", new AwardGrant(Guid.NewGuid(), patient, "Clinic B Fund", null, 4, "full",
            null, null, null, null, Today.AddDays(-10), Today.AddDays(30)))).Id;
        var study = Guid.NewGuid();
        await Fixture.Post<StudyCreated>("/api/studies", new RegisterStudy(study, "Clinic B Sponsor", "CB-1", 400m));
        var deposit = JsonDocument.Parse(await (await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new RecordDeposit(Guid.NewGuid(), 25m, Today, "CLINIC B BRANCH")).ToUrl("/api/deposits");
            s.StatusCodeShouldBe(201);
        })).ReadAsTextAsync()).RootElement.GetProperty("id").GetString()!;
        var remittance = JsonDocument.Parse(await (await Fixture.Call(As.Billing, s =>
        {
            s.Post.Text(Build("TRACE-CLINIC-B", "CLINIC B PAYER", "CLINB1", 0m, Today, [
                new Clp("KB-NOT-A-CLAIM", "4", 450m, 0m, 0m, new Svc("96365", 450m, 0m, Today.AddDays(-3), null, ("CO", "50", 450m)))
            ])).ToUrl("/api/remittances");
            s.StatusCodeShouldBeOk();
        })).ReadAsTextAsync()).RootElement.GetProperty("remittances")[0].GetProperty("remittanceId").GetString()!;
        await Fixture.Call(As.Billing, s =>
        {
            s.Put.Json(new SetLocation("Clinic B main", new PostalAddress("1 B Street", null, "Chicago", "IL", "60601"), "11")).ToUrl("/api/locations/clinic-b-main");
            s.StatusCodeShouldBeOk();
        });
        await Fixture.Call(As.Billing, s =>
        {
            s.Put.Json(new SetProvider("Clinic B Doctor", "1234567893", "MD")).ToUrl("/api/providers/dr-clinic-b");
            s.StatusCodeShouldBeOk();
        });
        var job = JsonDocument.Parse(await (await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new { }).ToUrl("/api/maintenance/projections/FeeSchedule/rebuild");
            s.StatusCodeShouldBe(202);
        })).ReadAsTextAsync()).RootElement.GetProperty("id").GetString()!;
        await Fixture.FinishedAsync(Guid.Parse(job));
        var owing = await Fixture.RegisteredPatient("Cal", "Otherclinic");
        await Fixture.DeliveredSession(owing, Scenarios.Session() with { LocationId = "clinic-b-main" });
        var run = await Fixture.Post<StatementRunView>("/api/statement-runs", new RunStatements(Guid.NewGuid()));
        var statement = (await Fixture.Get<StatementRunView>($"/api/statement-runs/{run.RunId}")).Items!.Single().StatementId;
        var plan = Guid.NewGuid();
        await Fixture.Post<PaymentPlanView>($"/api/patients/{owing}/payment-plans", new AgreePaymentPlan(plan, Today, [new InstalmentInput(Today.AddDays(30), 100m)]));
        var processorPayout = $"po_clinic_b_{Guid.NewGuid():N}";
        Fixture.Stripe.Payout(processorPayout, FakeStripe.Transaction($"txn_{processorPayout}", "payout", -2500, 0));
        Assert.Contains("recorded: payout", (await Fixture.DeliverAsync(ProcessorEvents.Signed(Stripe.EventTypes.PayoutPaid,
            ProcessorEvents.PayoutPaid(processorPayout, 2500, Today)), AppFixture.OtherClinic)).Body);

        var agency = Guid.NewGuid();
        await Fixture.Call(As.Billing, s =>
        {
            s.Put.Json(new KetamineBilling.Features.Collections.SetCollectionAgency("Clinic B Agency", 25m, null, null)).ToUrl($"/api/collection-agencies/{agency}");
            s.StatusCodeShouldBe(201);
        });
        // Every placement route is under clinic B's patient, whose 404 a clinic-A token meets first: any placement id will do.
        var placement = Guid.NewGuid();
        var visit = await Fixture.Post<VisitScheduled>($"/api/patients/{patient}/visits", new ScheduleVisit(Guid.NewGuid(), Today.AddDays(1), "09:00", "Infusion"));
        var series = Guid.NewGuid();
        await Fixture.Post<object>($"/api/patients/{patient}/series", new PlanSeries(series, "Clinic B series", 6, Today));
        var estimate = await Fixture.Post<GoodFaithEstimateIssued>($"/api/patients/{patient}/good-faith-estimates",
            new IssueGoodFaithEstimate(Guid.NewGuid(), series, Today, [new EstimateLineInput("96365", 6)]));

        return new Dictionary<string, string>
        {
            ["agencyId"] = agency.ToString(), ["placementId"] = placement.ToString(), ["visitId"] = visit.VisitId.ToString(), ["estimateId"] = estimate.EstimateId.ToString(),
            ["patientId"] = patient.ToString(), ["sessionId"] = session.SessionId.ToString(), ["paymentId"] = payment.PaymentId.ToString(),
            ["coverageId"] = coverage.ToString(), ["claimId"] = claim.Id.ToString(), ["authorizationId"] = authorization.Id.ToString(),
            ["employerId"] = employer.ToString(), ["grantId"] = grant.ToString(), ["studyId"] = study.ToString(), ["depositId"] = deposit,
            ["remittanceId"] = remittance, ["locationId"] = "clinic-b-main", ["providerId"] = "dr-clinic-b", ["code"] = "96365",
            ["payerId"] = payer.ToString(), ["jobId"] = job, ["runId"] = run.RunId.ToString(), ["statementId"] = statement.ToString(),
            ["payoutId"] = KetamineBilling.Features.PatientBilling.ProcessorPayout.IdOf(processorPayout).ToString(), ["planId"] = plan.ToString()
        };
    }

    private async Task<long> EventsOfClinicBAsync()
    {
        await using var session = Store.QuerySession(AppFixture.OtherClinic);
        return await session.Events.QueryAllRawEvents().CountAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>The routes of the platform itself (accounts, clinics, sign-in): not a clinic's data, not tenanted.</summary>
    private static bool PlatformRoute(AppRoute route) =>
        !route.Pattern.StartsWith("/api/", StringComparison.Ordinal)
        || route.Pattern.StartsWith("/api/users", StringComparison.Ordinal) || route.Pattern.StartsWith("/api/auth", StringComparison.Ordinal)
        || route.Pattern.StartsWith("/api/account/", StringComparison.Ordinal) || route.Pattern.StartsWith("/api/clinics", StringComparison.Ordinal)
        || route.Pattern.StartsWith("/api/two-factor-policy", StringComparison.Ordinal) || route.Pattern == "/api/maintenance/nodes";

    [Fact]
    public async Task every_route_with_an_id_answers_a_clinic_a_token_404_for_clinic_b_s_ids_and_writes_nothing_into_clinic_b()
    {
        var ct = TestContext.Current.CancellationToken;
        await Fixture.ResetDataAsync();
        var ids = await ClinicBWorldAsync();
        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.OtherClinic, TimeSpan.FromSeconds(30));
        var before = await EventsOfClinicBAsync();
        var client = Host.Server.CreateClient();
        var tokenA = await Fixture.TokenFor(As.Billing, AppFixture.Clinic);
        var tokenB = await Fixture.TokenFor(As.Billing, AppFixture.OtherClinic);

        string Value(AppRoute route, RoutePatternParameterPart p) => p.Name switch
        {
            "id" when route.Pattern.StartsWith("/api/payers", StringComparison.Ordinal) => ids["payerId"],
            "id" => ids["jobId"],
            "month" => $"{Today:yyyy-MM}",
            "dateOfService" => $"{Today.AddDays(-3):yyyy-MM-dd}",
            "name" => "FeeSchedule",
            "account" => "ar-patients",
            _ when ids.TryGetValue(p.Name, out var id) => id,
            _ when p.IsOptional => "",
            _ => throw new InvalidOperationException($"{route.Method} {route.Pattern}: no clinic-B id for {{{p.Name}}}: add one to the world")
        };

        async Task<HttpStatusCode> Send(AppRoute route, string url, string token)
        {
            using var request = new HttpRequestMessage(new HttpMethod(route.Method), url);
            if (route.Method is "POST" or "PUT" or "PATCH") request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
            request.Headers.Add("Authorization", $"Bearer {token}");
            using var response = await client.SendAsync(request, ct);
            return response.StatusCode;
        }

        // Routes with an id (a projection's name, a month, a date or an account of the chart are no clinic's data).
        var routes = AppRoutes.All(Host.Services).Where(r => !PlatformRoute(r) && r.Parameters.Any(p => p is not ("month" or "dateOfService" or "name" or "account"))).ToList();
        Assert.True(routes.Count > 40, $"only {routes.Count} routes with ids were found");
        var leaks = new List<string>();
        var checkedReads = 0;
        foreach (var route in routes)
        {
            var url = route.Url(p => Value(route, p));
            var asA = await Send(route, url, tokenA);
            if (route.Method == "GET")
            {
                var asB = await Send(route, url, tokenB);
                // The ids are clinic B's: its own token reads them (a route that finds nothing either way proves nothing).
                if (asB == HttpStatusCode.NotFound) leaks.Add($"{route.Method} {url}: 404 for clinic B too (the id is not found in its own clinic)");
                else if (asA != HttpStatusCode.NotFound) leaks.Add($"{route.Method} {url}: {(int)asA} for a clinic-A token (clinic B: {(int)asB})");
                checkedReads++;
            }
            else if ((int)asA is >= 200 and < 300)
            {
                leaks.Add($"{route.Method} {url}: {(int)asA} for a clinic-A token");
            }
        }

        Assert.True(leaks.Count == 0, string.Join('\n', leaks));
        Assert.True(checkedReads > 25, $"only {checkedReads} reads were checked");
        Assert.Equal(before, await EventsOfClinicBAsync());
    }

    [Fact]
    public async Task an_835_posted_under_clinic_a_never_matches_a_clinic_b_claim()
    {
        await Fixture.ResetDataAsync();
        ClaimView claim;
        using (Fixture.ActingFor(AppFixture.OtherClinic))
        {
            await Fixture.PricedCode("96365", 450m);
            var payer = await Fixture.Payer("Shared Payer", "SHR01");
            var patient = await Fixture.RegisteredPatient("Bo", "Clinicb");
            await Fixture.Coverage(patient, payer);
            var session = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient, Scenarios.Session() with { Funding = ["insurance"] }));
            claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), patient, payer, [session.SessionId]));
        }

        // The same payer in clinic A, and a remittance naming clinic B's claim control number.
        await Fixture.Payer("Shared Payer", "SHR01");
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Text(Build("TRACE-CROSS-1", "SHARED PAYER", "SHR01", 400m, Today, [
                new Clp(claim.ControlNumber, "1", 450m, 400m, 0m, new Svc("96365", 450m, 400m, Today.AddDays(-3), null, ("CO", "45", 50m)))
            ])).ToUrl("/api/remittances");
            s.StatusCodeShouldBeOk();
        });
        var posted = JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.GetProperty("remittances")[0];
        Assert.Equal(0, posted.GetProperty("claimsPosted").GetInt32());
        Assert.Equal(claim.ControlNumber, Assert.Single(posted.GetProperty("unmatched").EnumerateArray()).GetProperty("controlNumber").GetString());

        // Clinic B's claim is as it was filed: no payment, no adjudication.
        await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url($"/api/claims/{claim.Id}");
            s.StatusCodeShouldBe(404);
        });
        using (Fixture.ActingFor(AppFixture.OtherClinic))
        {
            var inB = await Fixture.Get<ClaimView>($"/api/claims/{claim.Id}");
            Assert.Equal((0m, 0), (inB.Paid, inB.Adjudications.Count));
        }
    }
}
