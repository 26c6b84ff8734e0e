using Alba;
using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Features.Studies;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace KetamineBilling.Tests.Platform;

/// <summary>
/// docs/events.md: every event says who caused it (header <c>user-id</c>) and in which request (correlation id); an event
/// appended by follow-up work (a cascade: authorization counting, direct pay, grants, studies, responsibility moves) carries
/// the user and correlation id of the request that caused it, and the id of the event that caused it as its causation id.
/// A random run through the API as two billing users, each request with a correlation id of its own, then every event in
/// the store is read raw and checked.
/// </summary>
public class every_event_says_who_and_why(AppFixture fixture) : IntegrationContext(fixture)
{
    private const string SecondBilling = "billing-2@test.local";

    /// <summary>What the test sent: who, and what kind of request (the kinds that cascade are checked for their follow-ups).</summary>
    private sealed record Sent(string Correlation, string Kind, Guid User);

    private readonly Dictionary<string, Sent> _sent = new();
    private readonly Dictionary<string, Guid> _userIds = new();

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await Host.Services.GetRequiredService<UserAccounts>().EnsureAsync(SecondBilling, "Second Biller", AppFixture.Password, [Roles.BillingAdmin], null,
            [AppFixture.Clinic], DateTimeOffset.UtcNow, TestContext.Current.CancellationToken);
        foreach (var user in new[] { As.Billing, SecondBilling })
        {
            var me = await Fixture.Call(user, s => s.Get.Url("/api/auth/me"));
            _userIds[user] = (await me.ReadAsJsonAsync<CurrentUser>())!.Id;
        }
    }

    /// <summary>One request as the user, with a correlation id of the test's own, waiting for every message it cascades.</summary>
    private async Task<T> Send<T>(string user, string kind, HttpMethod method, string url, object body, int status = 201)
    {
        var correlation = $"who-{_sent.Count + 1:D4}-{kind}";
        _sent[correlation] = new Sent(correlation, kind, _userIds[user]);
        var token = await Fixture.TokenFor(user);
        IScenarioResult? result = null;
        await Wolverine.Tracking.WolverineHostMessageTrackingExtensions.ExecuteAndWaitAsync(Host, async () =>
        {
            result = await Host.Scenario(s =>
            {
                s.WithRequestHeader("Authorization", $"Bearer {token}");
                s.WithRequestHeader(Logging.CorrelationHeader, correlation);
                (method == HttpMethod.Put ? s.Put : s.Post).Json(body, JsonStyle.MinimalApi).ToUrl(url);
                s.StatusCodeShouldBe(status);
            });
        }, 30_000);
        return (await result!.ReadAsJsonAsync<T>())!;
    }

    private sealed record Tracked(Guid Patient, Guid Session, string Funding)
    {
        public bool Claimed { get; set; }
        public bool Voided { get; set; }
    }

    [Fact]
    public async Task every_event_of_a_random_run_names_its_user_and_request_and_every_follow_up_names_the_event_that_caused_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var today = Host.Services.GetRequiredService<ClinicCalendar>().Today();
        var random = new Random(2121);
        string[] users = [As.Billing, SecondBilling];
        string User() => users[random.Next(users.Length)];

        await Send<object>(User(), "price", HttpMethod.Put, "/api/fee-schedule/96365", new SetFeePrice("IV infusion", 450m, new DateOnly(2020, 1, 1)), 200);
        await Send<object>(User(), "price", HttpMethod.Put, "/api/fee-schedule/J3490", new SetFeePrice("Ketamine", 60m, new DateOnly(2020, 1, 1)), 200);
        var payer = (await Send<PayerCreated>(User(), "payer", HttpMethod.Post, "/api/payers", new CreatePayer("Blue Prairie Health", "BPH01", "commercial", "in-network"))).Id;
        var employer = (await Send<EmployerCreated>(User(), "employer", HttpMethod.Post, "/api/employers",
            new CreateEmployer("Acme Logistics", null, null, 80m, ["96365"], 2000m, null))).Id;
        var study = (await Send<StudyCreated>(User(), "study", HttpMethod.Post, "/api/studies", new RegisterStudy(Guid.NewGuid(), "Helix Pharma", "HX-204", 300m))).Id;
        var patients = new List<Guid>();
        var authorizations = new Dictionary<Guid, (Guid Id, string Status)>();
        for (var i = 0; i < 4; i++)
        {
            var p = (await Send<PatientCreated>(User(), "register", HttpMethod.Post, "/api/patients",
                new { firstName = $"Who{i}", lastName = "Why", dateOfBirth = new DateOnly(1980 + i, 3, 14) })).Id;
            await Send<object>(User(), "coverage", HttpMethod.Post, $"/api/patients/{p}/coverages",
                new RecordCoverage(null, payer, $"MEM{i:000000}", "primary", "GRP-1", CoinsurancePercent: 20m, Copay: 40m, ActiveFrom: today.AddDays(-365)));
            foreach (var year in new[] { today.AddDays(-90).Year, today.Year }.Distinct())
                await Send<object>(User(), "enrol", HttpMethod.Post, $"/api/employers/{employer}/enrollments", new EnrollEmployee(p, $"ACM-{i}", year));
            await Send<GrantCreated>(User(), "grant", HttpMethod.Post, "/api/grants", new AwardGrant(Guid.NewGuid(), p, "Ketamine Access Fund", 900m, null,
                "percentage", 50m, null, null, null, today.AddDays(-90), today.AddDays(30)));
            if (i % 2 == 0) await Send<object>(User(), "study-enrol", HttpMethod.Post, $"/api/studies/{study}/enrollments", new EnrollStudyPatient(p, $"S-{i}"));
            var requested = await Send<AuthorizationView>(User(), "authorization-request", HttpMethod.Post, "/api/prior-authorizations",
                new RequestPriorAuthorization(Guid.NewGuid(), p, payer, ["96365", "J3490"], 6, ["F33.2"],
                    new MedicalNecessityEvidence(["sertraline", "bupropion"], 22, 35, null), today.AddDays(-80)));
            authorizations[p] = (requested.Id, "requested");
            patients.Add(p);
        }

        var sessions = new List<Tracked>();
        string[] fundings = ["self-pay", "insurance", "insurance", "employer", "grant", "study"];
        for (var step = 0; step < 70; step++)
        {
            var patient = patients[random.Next(patients.Count)];
            switch (random.Next(7))
            {
                case 0 or 1 or 2:
                {
                    var funding = fundings[random.Next(fundings.Length)];
                    var charge = await Send<SessionCharge>(User(), "deliver", HttpMethod.Post, $"/api/patients/{patient}/sessions",
                        Scenarios.Session(deliveredOn: today.AddDays(-random.Next(1, 80)), lines: [("96365", 1), ("J3490", 1 + random.Next(2))]) with { Funding = [funding] });
                    sessions.Add(new Tracked(patient, charge.SessionId, funding));
                    break;
                }
                case 3:
                    await Send<PaymentResult>(User(), "payment", HttpMethod.Post, $"/api/patients/{patient}/payments",
                        new RecordPayment(Guid.NewGuid(), random.Next(2) == 0 ? "card" : "cash", 25m * random.Next(1, 24), today, $"R{step}"));
                    break;
                case 4:
                {
                    var (id, status) = authorizations[patient];
                    if (status == "requested")
                    {
                        await Send<AuthorizationView>(User(), "authorization-change", HttpMethod.Post, $"/api/prior-authorizations/{id}/approve",
                            new ApprovePriorAuthorization($"PA-{step:0000}", 2, null, today.AddDays(-85), today.AddDays(10)), 200);
                    }
                    else
                    {
                        await Send<AuthorizationView>(User(), "authorization-change", HttpMethod.Post, $"/api/prior-authorizations/{id}/extend",
                            new ExtendPriorAuthorization(Guid.NewGuid(), 2, today.AddDays(30 + step)), 200);
                    }

                    authorizations[patient] = (id, "approved");
                    break;
                }
                case 5:
                {
                    var unclaimed = sessions.Where(s => s.Patient == patient && s.Funding == "insurance" && !s.Claimed && !s.Voided).ToList();
                    if (unclaimed.Count == 0) break;
                    await Send<ClaimView>(User(), "claim", HttpMethod.Post, "/api/claims", new FileClaim(Guid.NewGuid(), patient, payer, unclaimed.Select(s => s.Session).ToList()));
                    unclaimed.ForEach(s => s.Claimed = true);
                    break;
                }
                default:
                {
                    var candidates = sessions.Where(s => s.Patient == patient && !s.Claimed && !s.Voided).ToList();
                    if (candidates.Count == 0) break;
                    var victim = candidates[random.Next(candidates.Count)];
                    await Send<object>(User(), "void", HttpMethod.Post, $"/api/patients/{patient}/sessions/{victim.Session}/void", new VoidSession("entered in error"), 200);
                    victim.Voided = true;
                    break;
                }
            }
        }

        await using var session = Store.QuerySession(AppFixture.Clinic);
        var events = (await session.Events.QueryAllRawEvents().OrderBy(e => e.Sequence).ToListAsync(ct)).ToList();
        var byId = events.ToDictionary(e => e.Id);
        var problems = new List<string>();
        string Describe(JasperFx.Events.IEvent e) => $"#{e.Sequence} {e.EventTypeName}";
        foreach (var e in events)
        {
            if (e.CorrelationId is not { Length: > 0 } correlation || !_sent.TryGetValue(correlation, out var sent))
            {
                problems.Add($"{Describe(e)}: correlation id '{e.CorrelationId}' names no request of the run");
                continue;
            }

            var user = e.Headers?.GetValueOrDefault(AuditMiddleware.UserIdHeader)?.ToString();
            if (user != sent.User.ToString()) problems.Add($"{Describe(e)} ({correlation}): user-id '{user}', the request was {sent.User}");
            if (e.CausationId is null) continue;
            if (!Guid.TryParse(e.CausationId, out var causeId) || !byId.TryGetValue(causeId, out var cause))
            {
                problems.Add($"{Describe(e)}: causation id '{e.CausationId}' names no event");
                continue;
            }

            if (cause.Sequence >= e.Sequence || cause.CorrelationId != e.CorrelationId)
                problems.Add($"{Describe(e)}: its cause {Describe(cause)} is not an earlier event of the same request");
        }

        // The requests that cascade: their own events have no causation id, every other event of theirs is a follow-up naming the
        // event that caused it (the session delivered, the authorization approved or extended, the session voided).
        string[] own = ["session_delivered", "discount_granted", "prior_authorization_approved", "prior_authorization_extended", "session_voided", "payment_unapplied"];
        var followUps = new List<JasperFx.Events.IEvent>();
        foreach (var request in events.GroupBy(e => e.CorrelationId ?? ""))
        {
            if (!_sent.TryGetValue(request.Key, out var sent)) continue;
            var cascades = sent.Kind is "deliver" or "authorization-change" or "void";
            var causes = request.Where(e => own.Contains(e.EventTypeName)).ToList();
            foreach (var e in request)
            {
                if (cascades && !own.Contains(e.EventTypeName))
                {
                    followUps.Add(e);
                    var cause = Assert.Single(causes, c => c.EventTypeName is "session_delivered" or "prior_authorization_approved" or "prior_authorization_extended" or "session_voided");
                    if (e.CausationId != cause.Id.ToString())
                        problems.Add($"{Describe(e)} ({request.Key}): a follow-up of {Describe(cause)} ({cause.Id}) with causation id '{e.CausationId}'");
                }
                else if (e.CausationId is not null)
                {
                    problems.Add($"{Describe(e)} ({request.Key}): an event of the request itself with causation id '{e.CausationId}'");
                }
            }
        }

        Assert.True(problems.Count == 0, $"{problems.Count} of {events.Count} events:\n" + string.Join("\n", problems.Take(25)));
        // The run reached every kind of follow-up work, by both users.
        Assert.Subset(followUps.Select(e => e.EventTypeName).ToHashSet(), new HashSet<string>
        {
            "session_authorization_checked", "authorized_session_used", "direct_pay_committed", "grant_applied", "study_session_covered",
            "responsibility_moved", "third_party_adjusted"
        });
        Assert.Equal(2, followUps.Select(e => e.Headers![AuditMiddleware.UserIdHeader].ToString()).Distinct().Count());
        Assert.Contains(followUps, e => _sent[e.CorrelationId!].Kind == "authorization-change" && e.EventTypeName == "authorized_session_used");
    }

    [Fact]
    public async Task a_void_s_releases_name_the_void_as_their_cause_and_carry_its_user_and_request()
    {
        var ct = TestContext.Current.CancellationToken;
        var today = Host.Services.GetRequiredService<ClinicCalendar>().Today();
        await Send<object>(As.Billing, "price", HttpMethod.Put, "/api/fee-schedule/96365", new SetFeePrice("IV infusion", 450m, new DateOnly(2020, 1, 1)), 200);
        var patient = (await Send<PatientCreated>(As.Billing, "register", HttpMethod.Post, "/api/patients",
            new { firstName = "Voided", lastName = "Grant", dateOfBirth = new DateOnly(1981, 5, 2) })).Id;
        var grant = Guid.NewGuid();
        await Send<GrantCreated>(As.Billing, "grant", HttpMethod.Post, "/api/grants",
            new AwardGrant(grant, patient, "Ketamine Access Fund", 900m, null, "full", null, null, null, null, today.AddDays(-30), today.AddDays(30)));
        var charge = await Send<SessionCharge>(As.Billing, "deliver", HttpMethod.Post, $"/api/patients/{patient}/sessions",
            Scenarios.Session(deliveredOn: today.AddDays(-1), lines: [("96365", 1)]) with { Funding = ["grant"] });

        await Send<object>(SecondBilling, "void", HttpMethod.Post, $"/api/patients/{patient}/sessions/{charge.SessionId}/void", new VoidSession("entered in error"), 200);

        await using var session = Store.QuerySession(AppFixture.Clinic);
        var voided = Assert.Single(await session.Events.FetchStreamAsync(patient, token: ct), e => e.Data is SessionVoided);
        var released = Assert.Single(await session.Events.FetchStreamAsync(grant, token: ct), e => e.Data is GrantReleased);
        Assert.Null(voided.CausationId);
        Assert.Equal(voided.Id.ToString(), released.CausationId);
        Assert.Equal((voided.CorrelationId, _userIds[SecondBilling].ToString()),
            (released.CorrelationId, released.Headers?.GetValueOrDefault(AuditMiddleware.UserIdHeader)?.ToString()));
        Assert.Equal("void", _sent[voided.CorrelationId!].Kind);
    }
}
