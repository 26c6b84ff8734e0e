using KetamineBilling.Features.Clinic;
using KetamineBilling.Features.Locations;
using System.Text.Json;
using Alba;
using JasperFx.Events.Daemon;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Features.Studies;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Marten.Events;
using Microsoft.Extensions.DependencyInjection;

namespace KetamineBilling.Tests.Platform;

/// <summary>
/// After a long run of random work through the API (every funding source, payments, claims, answers, voids,
/// refunds), rebuilding every projection from the events gives the same documents, one by one.
/// </summary>
public class rebuilding_after_a_long_random_scenario(AppFixture fixture) : IntegrationContext(fixture)
{
    private sealed record Tracked(Guid Patient, Guid Session, string Funding)
    {
        public bool Claimed { get; set; }
        public bool Voided { get; set; }
    }

    [Fact]
    public async Task every_projection_rebuilt_from_the_events_equals_the_live_documents()
    {
        var today = Fixture.Host.Services.GetRequiredService<ClinicCalendar>().Today();
        var random = new Random(4242);
        await Fixture.PricedCode("96365", 450m);
        await Fixture.PricedCode("J3490", 60m);
        var payer = await Fixture.Payer();
        // The clinic's locations (sessions name main-clinic) and a changed profile: their streams are rebuilt too.
        var office = new SetLocation("Main clinic", new PostalAddress("1 Main St", null, "Chicago", "IL", "60611"), "11");
        await Fixture.Call(As.Billing, s => { s.Put.Json(office, JsonStyle.MinimalApi).ToUrl("/api/locations/main-clinic"); s.StatusCodeShouldBeOk(); });
        await Fixture.Call(As.Billing, s => { s.Put.Json(office with { Name = "North office" }, JsonStyle.MinimalApi).ToUrl("/api/locations/north"); s.StatusCodeShouldBeOk(); });
        await Fixture.Call(As.Billing, s => { s.Put.Json(new SetLocationActive(false), JsonStyle.MinimalApi).ToUrl("/api/locations/north/active"); s.StatusCodeShouldBeOk(); });
        var profile = await Fixture.Get<ClinicProfileView>("/api/clinic/profile");
        await Fixture.Call(As.Billing, s =>
        {
            s.Put.Json(new SetClinicProfile(profile.Name + " Renamed", profile.AddressLines, "312-555-0100", profile.Npi, profile.TaxId, profile.Taxonomy, profile.SubmitterId),
                JsonStyle.MinimalApi).ToUrl("/api/clinic/profile");
            s.StatusCodeShouldBeOk();
        });
        var employer = (await Fixture.Post<EmployerCreated>("/api/employers", new CreateEmployer("Acme Logistics", null, 80m, null, ["96365"], 400m, null))).Id;
        var study = (await Fixture.Post<StudyCreated>("/api/studies", new RegisterStudy(Guid.NewGuid(), "Helix Pharma", "HX-204", 300m))).Id;
        var patients = new List<Guid>();
        for (var i = 0; i < 6; i++)
        {
            var p = await Fixture.RegisteredPatient($"Random{i}", "Walker");
            await Fixture.Coverage(p, payer, $"MEM{i:000000}");
            foreach (var year in new[] { today.AddDays(-90).Year, today.Year }.Distinct())
                await Fixture.Post<object>($"/api/employers/{employer}/enrollments", new EnrollEmployee(p, $"ACM-{i}", year));
            await Fixture.Post<GrantCreated>("/api/grants", new AwardGrant(Guid.NewGuid(), p, "Ketamine Access Fund", 700m, null, "percentage", 50m, null, null, null,
                today.AddDays(-90), today.AddDays(30)));
            if (i % 2 == 0) await Fixture.Post<object>($"/api/studies/{study}/enrollments", new EnrollStudyPatient(p, $"S-{i}"));
            patients.Add(p);
        }

        var sessions = new List<Tracked>();
        var openClaims = new List<(Guid Claim, int Lines)>();
        string[] fundings = ["self-pay", "insurance", "employer", "grant", "study"];
        var unpaidOut = new List<Dictionary<string, object?>>();
        for (var step = 0; step < 150; step++)
        {
            var patient = patients[random.Next(patients.Count)];
            if (step % 15 == 7)
            {
                // A card payment through the processor; every other one disputed by the cardholder's bank (on the worklist while open).
                var intent = $"pi_random_{step}_{Guid.NewGuid():N}";
                var cents = 2500L * random.Next(1, 12);
                await Fixture.DeliverAsync(ProcessorEvents.Signed(Stripe.EventTypes.CheckoutSessionCompleted,
                    ProcessorEvents.CheckoutCompleted(intent, cents, patient, Guid.NewGuid())));
                var fee = cents * 29 / 1000 + 30;
                unpaidOut.Add(FakeStripe.Transaction($"txn_random_{step}", "charge", cents, fee, "charge", intent));
                if (step % 30 == 7)
                {
                    await Fixture.DeliverAsync(ProcessorEvents.Signed(Stripe.EventTypes.ChargeDisputeCreated,
                        ProcessorEvents.Dispute($"dp_random_{step}", intent, cents, "needs_response", DateTimeOffset.UtcNow.AddDays(10))));
                    unpaidOut.Add(FakeStripe.Transaction($"txn_random_{step}_dispute", "adjustment", -cents, 1500, "dispute", intent));
                }

                if (step % 30 == 22)
                {
                    // The processor pays out what it holds: a receipt of its net in the worklist's receipts.
                    var net = unpaidOut.Sum(t => (long)t["net"]!);
                    Fixture.Stripe.Payout($"po_random_{step}", [.. unpaidOut]);
                    await Fixture.DeliverAsync(ProcessorEvents.Signed(Stripe.EventTypes.PayoutPaid, ProcessorEvents.PayoutPaid($"po_random_{step}", net, today)));
                    unpaidOut.Clear();
                }

                continue;
            }

            switch (random.Next(6))
            {
                case 0 or 1:
                {
                    var funding = fundings[random.Next(fundings.Length)];
                    if (funding == "study" && patients.IndexOf(patient) % 2 == 1) funding = "self-pay";
                    var charge = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient,
                        Scenarios.Session(deliveredOn: today.AddDays(-random.Next(1, 80)), lines: [("96365", 1), ("J3490", 1 + random.Next(2))]) with { Funding = [funding] }));
                    sessions.Add(new Tracked(patient, charge.SessionId, funding));
                    break;
                }
                case 2 when step % 25 == 5:
                    await Fixture.AndWaitForCascades(() => Fixture.Post<KetamineBilling.Features.PatientBilling.StatementRunView>("/api/statement-runs",
                        new KetamineBilling.Features.PatientBilling.RunStatements(Guid.NewGuid())));
                    break;
                case 2 when step % 10 == 0:
                    await Fixture.Post<DepositView>("/api/deposits", new RecordDeposit(Guid.NewGuid(), 25m * random.Next(1, 40), today, $"BANK-{step}"));
                    break;
                case 2:
                    await Fixture.Post<PaymentResult>($"/api/patients/{patient}/payments",
                        new RecordPayment(Guid.NewGuid(), random.Next(2) == 0 ? "card" : "cash", 25m * random.Next(1, 24), today, $"R{step}"));
                    break;
                case 3:
                {
                    var unclaimed = sessions.Where(s => s.Patient == patient && s.Funding == "insurance" && !s.Claimed && !s.Voided).ToList();
                    if (unclaimed.Count == 0) break;
                    var claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), patient, payer, unclaimed.Select(s => s.Session).ToList()));
                    unclaimed.ForEach(s => s.Claimed = true);
                    openClaims.Add((claim.Id, claim.Lines.Count));
                    break;
                }
                case 4:
                {
                    if (openClaims.Count == 0) break;
                    var (claimId, lines) = openClaims[random.Next(openClaims.Count)];
                    openClaims.Remove((claimId, lines));
                    var claim = await Fixture.Get<ClaimView>($"/api/claims/{claimId}");
                    var deny = random.Next(3) == 0;
                    var eob = claim.Lines.Select(l => deny
                        ? new EobLine(l.LineNumber, 0m, 0m, [new EobAdjustment("CO", "197", l.Charge)], null)
                        : new EobLine(l.LineNumber, l.Charge - 20m, l.Charge - 40m, [new EobAdjustment("CO", "45", 20m), new EobAdjustment("PR", "2", 20m)], null)).ToList();
                    await Fixture.Post<ClaimView>($"/api/claims/{claimId}/eob", new PostEob(Guid.NewGuid(), $"EOB-{step}", eob), 200);
                    break;
                }
                default:
                {
                    var candidates = sessions.Where(s => s.Patient == patient && !s.Claimed && !s.Voided).ToList();
                    if (candidates.Count > 0 && random.Next(2) == 0)
                    {
                        var victim = candidates[random.Next(candidates.Count)];
                        await Fixture.AndWaitForCascades(() => Fixture.Post<object>($"/api/patients/{patient}/sessions/{victim.Session}/void", new VoidSession("entered in error"), 200));
                        victim.Voided = true;
                    }
                    else if ((await Fixture.BalanceOf(patient)).UnappliedCredit is > 0 and var credit)
                    {
                        await Fixture.Post<object>($"/api/patients/{patient}/refunds", new IssueRefund(Guid.NewGuid(), credit, "card", "overpaid"), 201);
                    }

                    break;
                }
            }
        }

        // A payment plan on autopay: one instalment charged, the next declined on every attempt (a missed instalment on the worklist).
        var planner = await Fixture.RegisteredPatient("Autopay", "Walker");
        await Fixture.DeliveredSession(planner, Scenarios.Session(deliveredOn: today.AddDays(-30)) with { Funding = ["self-pay"] });
        var plan = Guid.NewGuid();
        await Fixture.Post<PaymentPlanView>($"/api/patients/{planner}/payment-plans", new AgreePaymentPlan(plan, today.AddDays(-25),
            [new InstalmentInput(today.AddDays(-20), 100m), new InstalmentInput(today.AddDays(-1), 100m)]));
        Fixture.Stripe.SavedCard("seti_random", "cus_random", "pm_random");
        await Fixture.DeliverAsync(ProcessorEvents.Signed(Stripe.EventTypes.CheckoutSessionCompleted, new Dictionary<string, object?>
        {
            ["id"] = "cs_random_setup", ["object"] = "checkout.session", ["mode"] = "setup", ["status"] = "complete", ["customer"] = "cus_random", ["setup_intent"] = "seti_random",
            ["metadata"] = new Dictionary<string, string> { ["patientId"] = planner.ToString(), ["planId"] = plan.ToString() }
        }));
        var autopays = Fixture.Host.Services.GetRequiredService<KetamineBilling.Features.PatientBilling.AutopayService>();
        Assert.Equal(1, await autopays.CheckAsync(TestContext.Current.CancellationToken, today.AddDays(-10)));
        Fixture.Stripe.Declines("pm_random", "expired_card");
        foreach (var day in new[] { today, today.AddDays(3), today.AddDays(6) }) await autopays.CheckAsync(TestContext.Current.CancellationToken, day);

        // Collections: an account past its final notice with an agency that recovered part of it; a bad debt partly recovered; a no-show fee.
        var bus = Fixture.Host.Services.GetRequiredService<Wolverine.IMessageBus>();
        var dunned = await Fixture.RegisteredPatient("Dunned", "Walker");
        await Fixture.DeliveredSession(dunned, Scenarios.Session(deliveredOn: today.AddDays(-130)) with { Funding = ["self-pay"] });
        foreach (var daysAgo in new[] { 70, 35, 0 })
        {
            var run = Guid.NewGuid();
            await Fixture.AndWaitForCascades(async () =>
            {
                await bus.InvokeForTenantAsync(AppFixture.Clinic, new KetamineBilling.Features.PatientBilling.RunScheduledStatements(run, today.AddDays(-daysAgo)),
                    TestContext.Current.CancellationToken);
                return run;
            });
        }

        var agency = Guid.NewGuid();
        await Fixture.Call(As.Billing, s =>
        {
            s.Put.Json(new KetamineBilling.Features.Collections.SetCollectionAgency("Random Recovery", 30m, null, null)).ToUrl($"/api/collection-agencies/{agency}");
            s.StatusCodeShouldBe(201);
        });
        var placement = Guid.NewGuid();
        await Fixture.Post<PlacementView>($"/api/patients/{dunned}/collection-placements", new PlaceWithCollectionAgency(placement, agency));
        await Fixture.Post<PlacementView>($"/api/patients/{dunned}/collection-placements/{placement}/recoveries", new RecordAgencyRecovery(Guid.NewGuid(), 100m, null, today, "RR-1"));
        var written = patients[random.Next(patients.Count)];
        if ((await Fixture.BalanceOf(written)).PatientDue > 0)
        {
            await Fixture.Post<BalanceWrittenOff>($"/api/patients/{written}/write-offs", new WriteOffBalance(Guid.NewGuid(), "bad-debt", null, null, null));
            await Fixture.Post<PaymentResult>($"/api/patients/{written}/bad-debt-recoveries", new RecordBadDebtRecovery(Guid.NewGuid(), "check", 10m, today, "check 1"));
        }

        await Fixture.PricedCode("NOSHW", 75m, description: "Missed appointment fee");
        await Fixture.Post<NoShowFeeView>($"/api/patients/{patients[0]}/no-show-fees", new ChargeNoShowFee(Guid.NewGuid(), today.AddDays(-2), null));

        // Month-end close under the "move" rule: last month closed, then a payment received in it recorded late (posted in this month, flagged).
        await Fixture.Call(As.Finance, s =>
        {
            s.Put.Json(new KetamineBilling.Features.GeneralLedger.SetClosedPeriodRule("move")).ToUrl("/api/books/closed-period-rule");
            s.StatusCodeShouldBeOk();
        });
        await Fixture.Call(As.Finance, s =>
        {
            s.Put.Json(new KetamineBilling.Features.GeneralLedger.SetChartAccount("12000", "Patient receivables")).ToUrl("/api/books/accounts/ar-patients");
            s.StatusCodeShouldBeOk();
        });
        var lastMonth = new DateOnly(today.Year, today.Month, 1).AddMonths(-1);
        await Fixture.Post<KetamineBilling.Features.GeneralLedger.BooksView>("/api/books/closes", new KetamineBilling.Features.GeneralLedger.CloseMonth(KetamineBilling.Features.GeneralLedger.Books.Name(lastMonth)), 200, As.Finance);
        await Fixture.Post<PaymentResult>($"/api/patients/{patients[0]}/payments", new RecordPayment(Guid.NewGuid(), "check", 5m, lastMonth.AddDays(3), "late check"));

        // Visits on the schedule, one cancelled (the day index keeps the other only).
        var keptVisit = Guid.NewGuid();
        await Fixture.Post<VisitScheduled>($"/api/patients/{patients[0]}/visits", new ScheduleVisit(keptVisit, today.AddDays(1), "09:00", "Infusion"));
        var dropped = Guid.NewGuid();
        await Fixture.Post<VisitScheduled>($"/api/patients/{patients[1]}/visits", new ScheduleVisit(dropped, today.AddDays(2), null, "Consult"));
        await Fixture.Post<VisitCancelled>($"/api/patients/{patients[1]}/visits/{dropped}/cancel", new CancelVisit("rescheduled"), 200);

        // The clinic's own treatment of a reason code (its table is an inline snapshot of its own stream).
        await Fixture.Put<ReasonCodeRow>("/api/reason-codes/CO-97", new SetReasonCodeTreatment("denial"));

        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(60));
        var before = await ProjectionSnapshot.DocumentsAsync(Store);
        // The run reached every kind of document it can make (no remittance: answers come by paper EOB here).
        foreach (var kind in new[] { "PatientAccount", "SessionOwner", "PaymentOwner", "Claim", "EmployerAgreement", "Grant", "Study", "PayerMonth", "PayerMonthSource",
                     "ClinicLocations", "ClinicProfileState", "AgingDay", "AgingAccount", "AgingCredit", "AgingSponsor", "KpiMonth", "KpiReceivables", "KpiSource",
                     "WorklistEntry", "WorklistTally", "WorklistReceipt", "WorklistReceiptSource", "WorklistSponsor", "Books", "CloseReport", "JournalBooks", "ClinicChart", "ReasonCodeTable", "VisitDay" })
            Assert.Contains(before.Keys, k => k.StartsWith(kind + ":", StringComparison.Ordinal));
        Assert.True(before.Count(k => k.Key.StartsWith("SessionOwner:", StringComparison.Ordinal)) > 40, "the run delivered few sessions");

        // The read models give exactly what the on-read computation over every account gives (ADR 0017), measured to
        // several dates: every party, owner, bucket, session count and credit balance.
        await using (var query = Store.QuerySession(AppFixture.Clinic))
        {
            foreach (var asOf in new[] { today, today.AddDays(-20), today.AddDays(45), today.AddDays(400) })
            {
                var kept = await KetamineBilling.Features.Analytics.ArAging.BuildAsync(query, asOf, TestContext.Current.CancellationToken);
                var computed = await KetamineBilling.Features.Analytics.ArAging.FromLedgerAsync(query, asOf, TestContext.Current.CancellationToken);
                Assert.True(computed.Rows.Count >= 5, $"the run left only {computed.Rows.Count} aging rows open");
                Assert.Equal(("Random Recovery", 350m), computed.Rows.Single(r => r.Party == KetamineBilling.Features.Ledger.ResponsibleParty.Collections) is var c ? (c.Name, c.Total) : default);
                Assert.Equal(ProjectionSnapshot.ByValueJson(computed), ProjectionSnapshot.ByValueJson(kept));
            }

            // KPIs over this month, the last three and a year, for the clinic and for the payer.
            var zone = Fixture.Host.Services.GetRequiredService<ClinicCalendar>().Zone;
            foreach (var (first, months) in new[] { (today, 1), (today.AddMonths(-2), 3), (today.AddMonths(-11), 12) })
            {
                var start = new DateOnly(first.Year, first.Month, 1);
                var end = start.AddMonths(months).AddDays(-1);
                var (from, to) = ($"{start:yyyy-MM}", $"{end:yyyy-MM}");
                foreach (var of in new Guid?[] { null, payer })
                {
                    var kept = await KetamineBilling.Features.Analytics.Kpis.BuildAsync(query, start, end, from, to, of, TestContext.Current.CancellationToken);
                    var computed = await KetamineBilling.Features.Analytics.Kpis.FromLedgerAsync(query, start, end, from, to, of, zone, TestContext.Current.CancellationToken);
                    Assert.True(computed.ClaimsFiled > 0 && computed.Collections != 0m, $"the run left no claims or collections in {from}..{to}");
                    Assert.Equal(ProjectionSnapshot.ByValueJson(computed), ProjectionSnapshot.ByValueJson(kept));
                }
            }
        }

        // The worklist: every item and the summary, today and on later days (items that show after 5, 7 and 30 days).
        await using (var query = Store.QuerySession(AppFixture.Clinic))
        {
            foreach (var asOf in new[] { today, today.AddDays(10), today.AddDays(45) })
            {
                var kept = await WorklistReads.AllAsync(query, asOf, new WorklistFilter(), TestContext.Current.CancellationToken);
                var computed = await ExceptionsWorklist.FromLedgerAsync(query, asOf, TestContext.Current.CancellationToken);
                Assert.True(computed.Select(i => i.Type).Distinct().Count() >= 4, $"the run left only {string.Join(", ", computed.Select(i => i.Type).Distinct())} on the worklist");
                Assert.Equal(ProjectionSnapshot.ByValueJson(computed.OrderBy(i => i.Key, StringComparer.Ordinal)), ProjectionSnapshot.ByValueJson(kept.OrderBy(i => i.Key, StringComparer.Ordinal)));
                // The summary from the tallies, and from the items when searched.
                Assert.Equal(ProjectionSnapshot.ByValueJson(ExceptionsWorklist.Summarize(computed)),
                    ProjectionSnapshot.ByValueJson(await WorklistReads.SummaryAsync(query, asOf, new WorklistFilter(), TestContext.Current.CancellationToken)));
                var searched = computed.Where(i => WorklistEntry.SearchOf(i.Patient, i.Reference, i.Detail).Contains("session", StringComparison.Ordinal)).ToList();
                Assert.NotEmpty(searched);
                Assert.Equal(ProjectionSnapshot.ByValueJson(ExceptionsWorklist.Summarize(searched)),
                    ProjectionSnapshot.ByValueJson(await WorklistReads.SummaryAsync(query, asOf, new WorklistFilter(Search: "SESSION"), TestContext.Current.CancellationToken)));
                var week = computed.Where(i => i.AgeDays > 7).ToList();
                Assert.Equal(ProjectionSnapshot.ByValueJson(ExceptionsWorklist.Summarize(week)),
                    ProjectionSnapshot.ByValueJson(await WorklistReads.SummaryAsync(query, asOf, new WorklistFilter(OlderThanDays: 7), TestContext.Current.CancellationToken)));
            }
        }

        // The scenario's seed makes statement runs, card payments and a dispute: their read models are rebuilt too.
        await using (var check = Store.QuerySession(AppFixture.Clinic))
        {
            var cards = await check.Query<KetamineBilling.Features.PatientBilling.CardPayment>().ToListAsync(TestContext.Current.CancellationToken);
            Assert.Contains(cards, c => c.DisputeId is not null);
            Assert.Contains(await check.Query<WorklistEntry>().Where(e => e.Type == "missed-instalment").ToListAsync(TestContext.Current.CancellationToken), e => e.PatientId == planner);
            Assert.NotEmpty(await check.Query<KetamineBilling.Features.PatientBilling.ProcessorPayout>().ToListAsync(TestContext.Current.CancellationToken));
            Assert.NotEmpty(await check.Query<KetamineBilling.Features.PatientBilling.StatementRun>().ToListAsync(TestContext.Current.CancellationToken));
        }

        // Lose some read models outright: the rebuild has to make them again from the events.
        await using (var damage = Store.LightweightSession(AppFixture.Clinic))
        {
            damage.Delete<PatientAccount>(patients[0]);
            damage.DeleteWhere<Claim>(c => c.PatientId == patients[1]);
            await damage.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        // Every projection of the application is in the snapshot and the rebuild.
        Assert.Equal(["Aging", "Autopay", "BankDeposit", "Books", "CardPayment", "Claim", "ClinicChart", "ClinicLocations", "ClinicProfileState", "DepositedReceipt", "EmployerAgreement", "Exceptions", "FeeSchedule", "Grant", "Journal", "Kpis", "PatientAccount", "PatientDirectoryEntry", "PatientStatements", "PayerMonths", "PaymentOwner", "PriorAuthorization", "ProcessorPayout",
            "ReasonCodeTable", "Remittance", "SessionOwner", "StatementPolicyState", "StatementRun", "Study", "VisitDay"], ProjectionSnapshot.Names(Store));
        await ProjectionSnapshot.RebuildAllAsync(Host, Store);

        var after = await ProjectionSnapshot.DocumentsAsync(Store);
        var differences = before.Keys.Union(after.Keys)
            .Where(k => before.GetValueOrDefault(k) != after.GetValueOrDefault(k))
            .Select(k => $"{k}\n  live:    {before.GetValueOrDefault(k)}\n  rebuilt: {after.GetValueOrDefault(k)}")
            .ToList();
        Assert.True(differences.Count == 0, string.Join("\n", differences.Take(3)));
    }
}
