using KetamineBilling.Features.Demo;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Features.Studies;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Wolverine;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Tests.Features.Demo;

/// <summary>
/// Issue 21: the demo's grant patient was booked 1,530.00 to the grant and nothing to the patient, because the demo
/// worked out its third-party money with code of its own. Here the demo's inputs are replayed into this run's own
/// (empty) database through what the API runs: the account events its endpoints decide are appended as they are, and
/// every third-party step goes through the real host: the grant, employer and study cascades (the handlers, through
/// Wolverine) and the employer's invoice and payment endpoints (HTTP). Every line of every demo account must then
/// read the same as the demo's own accounts.
/// </summary>
public class demo_money_as_the_api_decides(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly Type[] CascadeOutputs = [typeof(ThirdPartyAdjusted), typeof(ResponsibilityMoved), typeof(ThirdPartyPaymentApplied)];

    private (List<DemoAccount> Accounts, DemoThirdParties ThirdParties, PracticeStreams Practice) BuildDemo()
    {
        var calendar = Host.Services.GetRequiredService<ClinicCalendar>();
        var today = calendar.Today();
        var now = DateTimeOffset.UtcNow;
        var priceFrom = new DateOnly(today.Year, today.Month, 1).AddMonths(-13);
        var schedule = new FeeSchedule { Id = FeeSchedule.StreamId };
        var projection = new FeeScheduleProjection();
        foreach (var p in DemoSeeder.Prices) projection.Apply(new FeePriceSet(FeeSchedule.StreamId, p.Code, p.Description, p.Price, priceFrom, now, p.CashPrice), schedule);
        var start = today.AddDays(-120).ToDateTime(new TimeOnly(9, 0));
        var thirdParties = new DemoThirdParties(new DateTimeOffset(start, calendar.Zone.GetUtcOffset(start)).ToUniversalTime(), today);
        var stories = DemoSeeder.StoryAccounts(schedule, calendar, thirdParties);
        var practice = PracticeStreams.Build(PracticePlan.For(today, DemoSeeder.PracticeSeed), schedule, calendar);
        return ([.. stories, .. practice.Accounts], thirdParties, practice);
    }

    [Fact]
    public async Task every_line_of_every_demo_account_is_what_the_api_s_decisions_make_of_the_demo_s_inputs()
    {
        var ct = TestContext.Current.CancellationToken;
        var (accounts, thirdParties, _) = BuildDemo();
        var bus = Host.Services.GetRequiredService<IMessageBus>();

        // The other areas' streams start with what was agreed (registrations, the award); the rest of them is replayed in time order.
        var items = new List<(DateTimeOffset At, int Rank, int Order, Guid Stream, object Event)>();
        var order = 0;
        await using (var session = Store.LightweightSession(AppFixture.Clinic))
        {
            session.Events.StartStream<EmployerAgreement>(thirdParties.Acme.Id, thirdParties.Acme.Events[0]);
            session.Events.StartStream<EmployerAgreement>(thirdParties.Contoso.Id, thirdParties.Contoso.Events[0]);
            session.Events.StartStream<Grant>(thirdParties.Grant.Id, thirdParties.Grant.Events[0]);
            session.Events.StartStream<Study>(thirdParties.Study.Id, thirdParties.Study.Events[0]);
            await session.SaveChangesAsync(ct);
        }

        foreach (var stream in new (Guid Id, List<object> Events, List<DateTimeOffset> At)[]
                 {
                     (thirdParties.Acme.Id, thirdParties.Acme.Events, thirdParties.Acme.Timestamps),
                     (thirdParties.Contoso.Id, thirdParties.Contoso.Events, thirdParties.Contoso.Timestamps),
                     (thirdParties.Grant.Id, thirdParties.Grant.Events, thirdParties.Grant.Timestamps),
                     (thirdParties.Study.Id, thirdParties.Study.Events, thirdParties.Study.Timestamps)
                 })
        {
            // An enrolment comes before the session of the same moment; invoices and payments after the account's events.
            for (var n = 1; n < stream.Events.Count; n++)
                items.Add((stream.At[n], stream.Events[n] is EmployeeEnrolled or StudyPatientEnrolled ? 0 : 2, order++, stream.Id, stream.Events[n]));
        }

        foreach (var account in accounts)
        {
            for (var n = 0; n < account.Events.Count; n++) items.Add((account.Timestamps[n], 1, order++, account.Account.Id, account.Events[n]));
        }

        var pending = Store.LightweightSession(AppFixture.Clinic);
        var started = new HashSet<Guid>();
        async Task Flush()
        {
            await pending.SaveChangesAsync(ct);
            await pending.DisposeAsync();
            pending = Store.LightweightSession(AppFixture.Clinic);
        }

        foreach (var (_, _, _, stream, e) in items.OrderBy(i => i.At).ThenBy(i => i.Rank).ThenBy(i => i.Order))
        {
            switch (e)
            {
                case DirectPayCommitted or GrantApplied or StudySessionCovered:
                    // What the cascades write: made again below by the cascades themselves.
                    continue;
                case EmployeeEnrolled or StudyPatientEnrolled:
                    pending.Events.Append(stream, e);
                    continue;
                case EmployerInvoiceIssued invoice:
                    await Flush();
                    await Fixture.Post<InvoiceView>($"/api/employers/{stream}/invoices", new IssueInvoice(invoice.InvoiceId, $"{invoice.PeriodStart:yyyy-MM}"));
                    continue;
                case EmployerPaymentReceived payment:
                    await Flush();
                    await Fixture.Post<EmployerPaymentReceived>($"/api/employers/{stream}/payments",
                        new RecordEmployerPayment(payment.PaymentId, payment.Reference, payment.Amount, payment.ReceivedOn, null));
                    continue;
            }

            if (CascadeOutputs.Contains(e.GetType())) continue;
            if (started.Add(stream)) pending.Events.StartStream<PatientAccount>(stream, e);
            else pending.Events.Append(stream, e);
            if (e is SessionDelivered delivered)
            {
                object? message = delivered.Funding?.FirstOrDefault() switch
                {
                    FundingSource.Employer => new EmployerFundedSessionDelivered(delivered.PatientId, delivered.SessionId, delivered.DeliveredOn, delivered.Lines),
                    FundingSource.Grant => new GrantFundedSessionDelivered(delivered.PatientId, delivered.SessionId, delivered.DeliveredOn, delivered.Lines),
                    FundingSource.Study => new StudyFundedSessionDelivered(delivered.PatientId, delivered.SessionId, delivered.DeliveredOn, delivered.Lines),
                    _ => null
                };
                if (message is not null)
                {
                    await Flush();
                    await bus.InvokeForTenantAsync(AppFixture.Clinic, message, ct);
                }
            }
        }

        await Flush();
        await pending.DisposeAsync();

        var differences = new List<string>();
        await using var query = Store.QuerySession(AppFixture.Clinic);
        foreach (var demo in accounts.Select(a => a.Account))
        {
            var replayed = await query.LoadAsync<PatientAccount>(demo.Id, ct);
            if (replayed is null)
            {
                differences.Add($"{demo.Name}: not replayed");
                continue;
            }

            foreach (var session in demo.Sessions)
            {
                foreach (var line in session.Lines)
                {
                    var other = replayed.Line(session.SessionId, line.LineNumber);
                    var seeded = Figures(line);
                    var api = other is null ? "missing" : Figures(other);
                    if (seeded != api) differences.Add($"{demo.Name}, session of {session.DeliveredOn:yyyy-MM-dd}, line {line.LineNumber} {line.Code}: demo {seeded}, API {api}");
                }
            }

            if ((demo.TotalCharged, demo.TotalPaid, demo.TotalAdjusted, demo.UnappliedCredit) !=
                (replayed.TotalCharged, replayed.TotalPaid, replayed.TotalAdjusted, replayed.UnappliedCredit))
            {
                differences.Add($"{demo.Name}: totals demo {(demo.TotalCharged, demo.TotalPaid, demo.TotalAdjusted, demo.UnappliedCredit)}, " +
                                $"API {(replayed.TotalCharged, replayed.TotalPaid, replayed.TotalAdjusted, replayed.UnappliedCredit)}");
            }
        }

        Assert.True(differences.Count == 0, string.Join("\n", differences));
        Assert.True(accounts.Count == 87 && accounts.Sum(a => a.Account.Sessions.Count) > 600, $"{accounts.Count} accounts");

        // The grant patient in figures: six 510.00 sessions. On the first five the clinic gives up its fee-sharing half
        // (255.00) and the fund owes half the rest (127.50) until the 600.00 award is used up (90.00 on the fifth); the
        // sixth finds no award left, so no grant covers it and the patient owes all of it (the grant cascade's rule).
        // The fund owes its 600.00; the patient 5 x 127.50 + 37.50 + 510.00 = 1,185.00 (the demo had 1,530.00 and 0.00).
        var dana = await query.LoadAsync<PatientAccount>(DemoIds.Patient(6), ct);
        Assert.Equal((600m, 1185m, 1275m), (dana!.Open().Grant, dana.Open().Patient, dana.TotalAdjusted));
    }

    private static string Figures(AccountLine l) =>
        $"charge {l.Charge:0.00}; paid patient {l.PatientPaid:0.00} insurance {l.InsurancePaid:0.00} employer {l.EmployerPaid:0.00} grant {l.GrantPaid:0.00} " +
        $"sponsor {l.SponsorPaid:0.00}; adjusted {l.Adjusted:0.00}; open patient {l.Open.Patient:0.00} insurance {l.Open.Insurance:0.00} " +
        $"employer {l.Open.Employer:0.00} grant {l.Open.Grant:0.00} sponsor {l.Open.Sponsor:0.00}";

    [Fact]
    public async Task every_835_the_demo_records_reads_and_balances_by_the_rule_the_import_applies()
    {
        var (accounts, _, practice) = BuildDemo();
        var claims = accounts.SelectMany(a => a.Claims).ToDictionary(c => c.Id);
        var problems = new List<string>();
        foreach (var r in practice.Remittances)
        {
            // The recorded remittance by the rule, then the same advice written as the 835 it stands for, read by the real reader.
            if (ImportRemittanceEndpoint.Imbalance(r) is { } recorded) problems.Add($"trace {r.TraceNumber} as recorded: {recorded}");
            var clps = r.Posted.Select(p =>
            {
                var claim = claims[p.ClaimId].State;
                var answer = claim.Adjudications.Single(a => a.Source == $"835 {r.TraceNumber}");
                return new Remittance835Builder.Clp(claim.ControlNumber, p.ClaimStatusCode, answer.Lines.Sum(l => l.Charge), p.Paid, answer.PatientResponsibility,
                    [.. answer.Lines.Select(l =>
                    {
                        var line = claim.Lines.Single(x => x.LineNumber == l.LineNumber);
                        return new Remittance835Builder.Svc(line.Code, l.Charge, l.Paid, line.DateOfService, null, [.. l.Adjustments.Select(c => (c.Group, c.Reason, c.Amount))]);
                    })]);
            });
            var file = Remittance835Builder.Build(r.TraceNumber, r.PayerName, r.PayerIdentifier!, r.PaymentAmount, r.PaymentDate!.Value, clps,
                [.. r.ProviderAdjustments.Select(a => (a.Reason, a.Reference ?? "", a.Amount))]);
            try
            {
                var read = Assert.Single(await KetamineBilling.Features.Remittances.Remittance835Reader.ReadAsync(new StringReader(file), ct: TestContext.Current.CancellationToken));
                var (claimPayments, providerAdjustments) = ImportRemittanceEndpoint.Totals(read);
                if (ImportRemittanceEndpoint.Imbalance(read.PaymentAmount, claimPayments, providerAdjustments) is { } why) problems.Add($"trace {r.TraceNumber} as read: {why}");
            }
            catch (Exception e) when (e is KetamineBilling.Features.Claims.X12.X12FormatException)
            {
                problems.Add($"trace {r.TraceNumber}: {e.Message}");
            }
        }

        Assert.True(practice.Remittances.Count > 100, $"{practice.Remittances.Count} remittances");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
