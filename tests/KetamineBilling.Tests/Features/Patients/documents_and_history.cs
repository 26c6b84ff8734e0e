using KetamineBilling.Features.Ui;
using Alba;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using UglyToad.PdfPig;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Tests.Features.Patients;

/// <summary>Funding splits, the FSA/HSA and self-pay documents, the ledger as of a day, and the statements.</summary>
public class documents_and_history(AppFixture fixture) : IntegrationContext(fixture)
{
    private Guid _patient;
    private string Url(string tail) => $"/api/patients/{_patient}/{tail}";
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.Call(As.Billing, s =>
        {
            s.Put.Json(new KetamineBilling.Features.Fees.SetFeePrice("IV infusion, initial hour", 450.00m, new DateOnly(2020, 1, 1), 400.00m)).ToUrl("/api/fee-schedule/96365");
        });
        await Fixture.PricedCode("J3490", 60.00m, description: "Unclassified drug (ketamine HCl)");
        _patient = await Fixture.RegisteredPatient("Harriet", "Quillfeather", new DateOnly(1981, 7, 4));
    }

    private async Task<byte[]> Pdf(string url)
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url(url);
            s.StatusCodeShouldBeOk();
            s.ContentTypeShouldBe("application/pdf");
        });
        using var buffer = new MemoryStream();
        await result.Context.Response.Body.CopyToAsync(buffer, TestContext.Current.CancellationToken);
        return buffer.ToArray();
    }

    private static string Text(byte[] pdf)
    {
        using var document = PdfDocument.Open(pdf);
        return string.Join("\n", document.GetPages().Select(p => string.Join(" ", p.GetWords().Select(w => w.Text))));
    }

    [Fact]
    public async Task a_self_pay_session_gets_the_cash_price_as_a_discount_and_other_funding_goes_to_its_party()
    {
        var selfPay = await Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: Today.AddDays(-3)));
        var insured = await Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: Today.AddDays(-2)) with { Funding = ["insurance", "self-pay"] });
        var studyId = Guid.NewGuid();
        await Fixture.Post<object>("/api/studies", new KetamineBilling.Features.Studies.RegisterStudy(studyId, "Meridian Neuro", "MN-KET-204", 450m));
        await Fixture.Post<object>($"/api/studies/{studyId}/enrollments", new KetamineBilling.Features.Studies.EnrollStudyPatient(_patient, "SUBJ-0042"));
        var study = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: Today.AddDays(-1)) with { Funding = ["study"] }));

        Assert.Equal((450.00m, 50.00m), (selfPay.TotalCharge, selfPay.Discount));
        Assert.Equal((ResponsibleParty.Insurance, 0m), (insured.ResponsibleParty, insured.Discount));
        var balance = await Fixture.BalanceOf(_patient);
        Assert.Equal((400.00m, 450.00m, 450.00m, 0m, 0m), (balance.PatientDue, balance.InsurancePending, balance.SponsorPending, balance.EmployerDue, balance.GrantPending));
        Assert.Equal([FundingSource.Insurance, FundingSource.SelfPay], balance.Sessions.Single(s => s.SessionId == insured.SessionId).Funding);
        Assert.Equal(450.00m, balance.Sessions.Single(s => s.SessionId == study.SessionId).SponsorPending);
    }

    [Fact]
    public async Task an_unknown_provider_or_funding_is_refused()
    {
        var badFunding = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(Scenarios.Session() with { Funding = ["lottery"] }).ToUrl(Url("sessions"));
            s.StatusCodeShouldBe(400);
        });
        var badProvider = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(Scenarios.Session() with { ProviderId = "dr-nobody" }).ToUrl(Url("sessions"));
            s.StatusCodeShouldBe(422);
        });

        Assert.Contains("funding[0]", await badFunding.ReadAsTextAsync());
        Assert.Contains("providerId", await badProvider.ReadAsTextAsync());
    }

    [Fact]
    public async Task an_fsa_payment_on_a_session_no_letter_covers_warns_and_flags_the_account_until_a_letter_covers_it()
    {
        await Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: Today.AddDays(-3)));

        var payment = await Fixture.Post<PaymentResult>(Url("payments"), new RecordPayment(Guid.NewGuid(), "fsa", 200m, Today, "FSA card"));
        Assert.Single(payment.Warnings);
        Assert.Equal("fsa-without-letter", Assert.Single((await Fixture.BalanceOf(_patient)).Alerts).Kind);

        await Fixture.Post<object>(Url("medical-necessity-letters"), new RecordLetterOfMedicalNecessity(Guid.NewGuid(),
            "Treatment-resistant depression", "IV ketamine series", "6 infusions over 3 weeks", Today.AddDays(-10), Today.AddDays(180), AppFixture.ProviderId));

        Assert.Empty((await Fixture.BalanceOf(_patient)).Alerts);
        var card = await Fixture.Post<PaymentResult>(Url("payments"), new RecordPayment(Guid.NewGuid(), "hsa", 100m, Today, "HSA card"));
        Assert.Empty(card.Warnings);
    }

    [Fact]
    public async Task charges_400_or_more_above_the_good_faith_estimate_flag_the_account()
    {
        var series = Guid.NewGuid();
        await Fixture.Post<object>(Url("series"), new PlanSeries(series, "Six infusions", 6, null));
        var estimate = await Fixture.Post<GoodFaithEstimateIssued>(Url("good-faith-estimates"),
            new IssueGoodFaithEstimate(Guid.NewGuid(), series, null, [new EstimateLineInput("96365", 2)]));
        Assert.Equal(800.00m, estimate.Total);

        await Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: Today.AddDays(-4), lines: [("96365", 1), ("J3490", 1)]) with { SeriesId = series });
        await Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: Today.AddDays(-2), lines: [("96365", 1), ("J3490", 1)]) with { SeriesId = series });
        Assert.Empty((await Fixture.BalanceOf(_patient)).Alerts);

        var third = await Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: Today.AddDays(-1), lines: [("J3490", 5)]) with { SeriesId = series });
        var alert = Assert.Single((await Fixture.BalanceOf(_patient)).Alerts);
        Assert.Equal(("estimate-exceeded", 420.00m), (alert.Kind, alert.Amount));
        Assert.Equal(3, third.SeriesSessionNumber);
    }

    [Fact]
    public async Task a_payment_plan_shows_missed_instalments()
    {
        await Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: Today.AddDays(-40), lines: [("J3490", 10)]));
        var plan = new AgreePaymentPlan(Guid.NewGuid(), Today.AddDays(-30),
            [new InstalmentInput(Today.AddDays(-20), 200m), new InstalmentInput(Today.AddDays(-5), 200m), new InstalmentInput(Today.AddDays(10), 200m)]);
        await Fixture.Post<PaymentPlanView>(Url("payment-plans"), plan);
        await Fixture.Post<PaymentResult>(Url("payments"), new RecordPayment(Guid.NewGuid(), "card", 200m, Today.AddDays(-21), null));

        var view = Assert.Single(await Fixture.Get<List<PaymentPlanView>>(Url("payment-plans")));

        Assert.Equal(["paid", "missed", "upcoming"], view.Instalments.Select(i => i.Status));
        Assert.Equal(1, view.MissedInstalments);
        var tooBig = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new AgreePaymentPlan(Guid.NewGuid(), null, [new InstalmentInput(Today.AddDays(30), 5000m)])).ToUrl(Url("payment-plans"));
            s.StatusCodeShouldBe(422);
        });
        Assert.Contains("instalments", await tooBig.ReadAsTextAsync());
    }

    [Fact]
    public async Task the_ledger_runs_a_balance_and_as_of_yesterday_shows_the_account_before_today()
    {
        await Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: Today.AddDays(-3), lines: [("J3490", 2)]));
        await Fixture.Post<PaymentResult>(Url("payments"), new RecordPayment(Guid.NewGuid(), "cash", 50m, Today, null));

        var ledger = await Fixture.Get<PatientLedger>(Url("ledger"));
        var yesterday = await Fixture.Get<PatientLedger>(Url($"ledger?asOf={Today.AddDays(-1):yyyy-MM-dd}"));

        Assert.Equal(["charge", "payment", "application"], ledger.Entries.Select(e => e.Type));
        Assert.Equal([120.00m, 70.00m, 70.00m], ledger.Entries.Select(e => e.Balance));
        Assert.Equal(70.00m, ledger.Closing.PatientDue);
        Assert.Empty(yesterday.Entries);
        Assert.Equal(0m, yesterday.Closing.Balance);
    }

    [Fact]
    public async Task the_statement_reconciles_and_its_pdf_shows_the_figures()
    {
        await Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: Today.AddDays(-3), lines: [("J3490", 2)]));
        await Fixture.Post<PaymentResult>(Url("payments"), new RecordPayment(Guid.NewGuid(), "card", 45.50m, Today, "VISA 4242"));

        // The statement's period is in clinic days and the payment was recorded now: it ends on the clinic's today
        // (Today above is UTC less 12 hours, a day behind the clinic between midnight and 6 am in Chicago).
        var clinicToday = Host.Services.GetRequiredService<ClinicCalendar>().Today();
        var statement = await Fixture.Get<PatientStatement>(Url($"statement?from={Today.AddDays(-30):yyyy-MM-dd}&to={clinicToday:yyyy-MM-dd}"));
        Assert.Equal(statement.Opening.Balance + statement.Charges - statement.Payments - statement.Adjustments + statement.Refunds, statement.Closing.Balance);
        Assert.Equal((120.00m, 45.50m, 74.50m), (statement.Charges, statement.Payments, statement.AmountDue));

        var text = Text(await Pdf(Url($"statement.pdf?from={Today.AddDays(-30):yyyy-MM-dd}&to={clinicToday:yyyy-MM-dd}")));
        Assert.Contains("Patient Statement", text);
        Assert.Contains("Harriet Quillfeather", text);
        Assert.Contains("$120.00", text);
        Assert.Contains("$45.50", text);
        Assert.Contains("$74.50", text);
        Assert.Contains("Lakeside Ketamine Clinic", text);

        // Paper reads like the screen (issue 21): dates as MM/dd/yyyy, money with its currency symbol, no ISO date anywhere.
        Assert.Contains($"Statement date {Fmt.Date(clinicToday)}", text);
        Assert.Contains($"{Fmt.Date(Today.AddDays(-30))} to {Fmt.Date(clinicToday)}", text);
        Assert.Contains(Fmt.Date(Today.AddDays(-3)), text); // the session's date, in its ledger description
        Assert.DoesNotMatch(@"\d{4}-\d{2}-\d{2}", text);
        Assert.Matches(@"\$\d+\.\d\d", text);
    }

    [Fact]
    public async Task the_itemized_receipt_has_what_an_fsa_administrator_asks_for_and_no_balance_forward()
    {
        var day = Today.AddDays(-6);
        var other = await Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: Today.AddDays(-20), lines: [("J3490", 3)]));
        await Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: day, lines: [("96365", 1), ("J3490", 1)]));
        await Fixture.Post<PaymentResult>(Url("payments"), new RecordPayment(Guid.NewGuid(), "fsa", 630m, Today, "FSA card 1881"));

        var text = Text(await Pdf(Url($"receipts/{day:yyyy-MM-dd}")));

        foreach (var expected in new[]
                 {
                     "Itemized Receipt", "Harriet Quillfeather", Fmt.Date(day), "1234567893", "36-1234567", "96365", "J3490",
                     "IV infusion, initial hour", "$510.00", "$50.00", "$450.00", "Not reimbursed by insurance", "F33.2"
                 })
        {
            Assert.Contains(expected, text);
        }

        // Only that date of service: the other session's $180.00 and any running balance stay off it.
        Assert.DoesNotContain("$180.00", text);
        Assert.DoesNotContain(Fmt.Date(other.DeliveredOn), text);
        await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url(Url($"receipts/{Today.AddDays(-1):yyyy-MM-dd}"));
            s.StatusCodeShouldBe(404);
        });
    }

    [Fact]
    public async Task the_stored_balance_equals_a_recomputation_from_the_raw_events_after_a_random_day_of_work()
    {
        var random = new Random(20261127);
        var sessions = new List<Guid>();
        for (var step = 0; step < 40; step++)
        {
            var kind = random.Next(6);
            if (kind == 0 || sessions.Count == 0)
            {
                sessions.Add((await Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: Today.AddDays(-random.Next(1, 60)),
                    lines: [("96365", 1), ("J3490", random.Next(1, 4))]))).SessionId);
                continue;
            }

            var session = sessions[random.Next(sessions.Count)];
            await Fixture.Call(As.Billing, s =>
            {
                switch (kind)
                {
                    case 1: s.Post.Json(new RecordPayment(Guid.NewGuid(), "card", random.Next(1, 60000) / 100m, Today, null)).ToUrl(Url("payments")); break;
                    case 2: s.Post.Json(new VoidSession("random")).ToUrl(Url($"sessions/{session}/void")); break;
                    case 3: s.Post.Json(new IssueRefund(Guid.NewGuid(), random.Next(1, 20000) / 100m, "card", "random")).ToUrl(Url("refunds")); break;
                    case 4: s.Post.Json(new GrantDiscount(Guid.NewGuid(), "per-session", "percentage", random.Next(1, 50), null, session, null, "random")).ToUrl(Url("discounts")); break;
                    default: s.Post.Json(new WriteOffBalance(Guid.NewGuid(), "bad-debt", null, random.Next(1, 5000) / 100m, null)).ToUrl(Url("write-offs")); break;
                }

                s.IgnoreStatusCode();
            });
        }

        var stored = await Fixture.BalanceOf(_patient);
        await using var query = Store.QuerySession(AppFixture.Clinic);
        var events = await query.Events.FetchStreamAsync(_patient, token: TestContext.Current.CancellationToken);
        var recomputed = events.Aggregate((PatientAccount?)null, (a, e) => PatientAccount.Advance(a, e.Data))!;
        account_invariants.AssertBooksBalance(recomputed, events.Select(e => e.Data).ToList());
        var fresh = PatientBalance.From(recomputed);
        Assert.Equal(
            (fresh.TotalCharged, fresh.TotalPaid, fresh.TotalAdjusted, fresh.TotalRefunded, fresh.UnappliedCredit, fresh.PatientDue, fresh.TotalOpen),
            (stored.TotalCharged, stored.TotalPaid, stored.TotalAdjusted, stored.TotalRefunded, stored.UnappliedCredit, stored.PatientDue, stored.TotalOpen));
        Assert.True(stored.TotalPaid > 0 && stored.TotalVoided > 0 && stored.TotalAdjusted > 0, "the random day exercised payments, voids and adjustments");
    }
}
