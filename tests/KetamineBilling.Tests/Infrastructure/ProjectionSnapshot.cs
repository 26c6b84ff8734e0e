using System.Text.Json;
using Alba;
using JasperFx.Events.Daemon;
using KetamineBilling.Features.Analytics;
using KetamineBilling.Features.Maintenance;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Features.Studies;
using Marten;
using Marten.Events;
using Microsoft.Extensions.DependencyInjection;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>Every projected document of the application, serialized by kind and id, and a rebuild of every projection.</summary>
public static class ProjectionSnapshot
{
    /// <summary>The application's projections (the tests add one that fails on purpose, on an event of their own).</summary>
    public static IReadOnlyList<string> Names(IDocumentStore store) =>
        store.Options.Events.Projections().Select(p => p.Name).Where(n => n != PoisonedProjection.ProjectionName).Order(StringComparer.Ordinal).ToList();

    public static async Task<Dictionary<string, string>> DocumentsAsync(IDocumentStore store)
    {
        await using var session = store.QuerySession(AppFixture.Clinic);
        var ct = TestContext.Current.CancellationToken;
        var all = new Dictionary<string, string>();
        void Add<T>(IEnumerable<T> docs, Func<T, object> id, JsonSerializerOptions? options = null)
        {
            foreach (var d in docs) all[$"{typeof(T).Name}:{id(d)}"] = JsonSerializer.Serialize(d, options);
        }

        Add(await session.Query<PatientAccount>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<PatientDirectoryEntry>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<SessionOwner>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<PaymentOwner>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<VisitDay>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<FeeSchedule>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<Claim>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<PriorAuthorization>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<EmployerAgreement>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<Grant>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<Study>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<Remittance>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<BankDeposit>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<DepositedReceipt>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<PayerMonthSource>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<KetamineBilling.Features.Locations.ClinicLocations>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<KetamineBilling.Features.Clinic.ClinicProfileState>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<KetamineBilling.Features.PatientBilling.StatementRun>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<KetamineBilling.Features.PatientBilling.StatementPolicyState>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<KetamineBilling.Features.PatientBilling.PatientStatements>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<KetamineBilling.Features.PatientBilling.CardPayment>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<KetamineBilling.Features.PatientBilling.ProcessorPayout>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<KetamineBilling.Features.PatientBilling.Autopay>().ToListAsync(ct), d => d.Id);
        // Payer-month sums are kept by adding and taking away: a sum that went to 300.00 and back is 0.00 where a rebuild
        // that never added it has 0. Equal amounts, so they are compared by value, not by decimal scale.
        Add(await session.Query<PayerMonth>().ToListAsync(ct), d => d.Id, ByValue);
        Add(await session.Query<AgingDay>().ToListAsync(ct), d => d.Id, ByValue);
        Add(await session.Query<AgingAccount>().ToListAsync(ct), d => d.Id, ByValue);
        Add(await session.Query<AgingCredit>().ToListAsync(ct), d => d.Id, ByValue);
        Add(await session.Query<AgingSponsor>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<KpiMonth>().ToListAsync(ct), d => d.Id, ByValue);
        Add(await session.Query<KpiReceivables>().ToListAsync(ct), d => d.Id, ByValue);
        Add(await session.Query<KpiSource>().ToListAsync(ct), d => d.Id, ByValue);
        Add(await session.Query<KetamineBilling.Features.Reconciliation.WorklistEntry>().ToListAsync(ct), d => d.Id, ByValue);
        Add(await session.Query<KetamineBilling.Features.Reconciliation.WorklistTally>().ToListAsync(ct), d => d.Id, ByValue);
        Add(await session.Query<KetamineBilling.Features.Reconciliation.WorklistReceipt>().ToListAsync(ct), d => d.Id, ByValue);
        Add(await session.Query<KetamineBilling.Features.Reconciliation.WorklistReceiptSource>().ToListAsync(ct), d => d.Id, ByValue);
        Add(await session.Query<KetamineBilling.Features.Reconciliation.WorklistSponsor>().ToListAsync(ct), d => d.Id);
        Add(await session.Query<KetamineBilling.Features.GeneralLedger.JournalEntry>().ToListAsync(ct), d => d.Id.ToString(), ByValue);
        Add(await session.Query<KetamineBilling.Features.GeneralLedger.JournalAccount>().ToListAsync(ct), d => d.Id.ToString(), ByValue);
        Add(await session.Query<KetamineBilling.Features.GeneralLedger.JournalMonth>().ToListAsync(ct), d => d.Id, ByValue);
        Add(await session.Query<KetamineBilling.Features.GeneralLedger.JournalBooks>().ToListAsync(ct), d => d.Id.ToString());
        Add(await session.Query<KetamineBilling.Features.GeneralLedger.CloseReport>().ToListAsync(ct), d => d.Id.ToString(), ByValue);
        Add(await session.Query<KetamineBilling.Features.GeneralLedger.Books>().ToListAsync(ct), d => d.Id.ToString());
        Add(await session.Query<KetamineBilling.Features.GeneralLedger.ClinicChart>().ToListAsync(ct), d => d.Id.ToString());
        Add(await session.Query<KetamineBilling.Features.Remittances.ReasonCodeTable>().ToListAsync(ct), d => d.Id.ToString());
        return all;
    }

    /// <summary>A report as JSON with its amounts by value (300.00 and 300 alike): for comparing a read model's figures with the same computed on read.</summary>
    public static string ByValueJson(object report) => JsonSerializer.Serialize(report, ByValue);

    private static readonly JsonSerializerOptions ByValue = new() { Converters = { new DecimalByValue() } };

    private sealed class DecimalByValue : System.Text.Json.Serialization.JsonConverter<decimal>
    {
        public override decimal Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetDecimal();

        public override void Write(Utf8JsonWriter writer, decimal value, JsonSerializerOptions options) =>
            writer.WriteRawValue(value.ToString("G29", System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Rebuilds every projection of the application from the events, as the Maintenance API's rebuild-all does (a background job, two at a time).</summary>
    public static async Task RebuildAllAsync(IAlbaHost host, IDocumentStore store)
    {
        var jobs = host.Services.GetRequiredService<RebuildJobs>();
        var (job, running) = await jobs.StartAsync(AppFixture.Clinic, Names(store), 2, "tests", TestContext.Current.CancellationToken);
        Assert.True(job is not null, $"another rebuild runs: {running?.Id}");
        var done = await RebuildJobsWaiting.FinishedAsync(host.Services.GetRequiredService<KetamineBilling.Infrastructure.IGlobalStore>(), job.Id, TimeSpan.FromMinutes(10));
        Assert.Equal(RebuildState.Succeeded, done.State);
        Assert.Equal(Names(store), done.Results.Select(p => p.Name));
    }
}

public static class RebuildJobsWaiting
{
    /// <summary>Polls a rebuild job's document until it has ended.</summary>
    public static async Task<RebuildJob> FinishedAsync(IDocumentStore store, Guid id, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            await using (var session = store.QuerySession())
            {
                if (await session.LoadAsync<RebuildJob>(id, TestContext.Current.CancellationToken) is { Finished: true } job) return job;
            }

            Assert.True(DateTime.UtcNow < deadline, $"rebuild {id} did not end within {within}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }
}
