using System.Diagnostics;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Demo;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Infrastructure;
using JasperFx;
using JasperFx.Events;
using Marten;
using Npgsql;

namespace KetamineBilling.Bench;

/// <summary>
/// Scenario 5's store: the demo practice's year (the same plan and decisions as the demo data) for as many patients as
/// it takes to reach the target number of events, appended by Marten with no projection at all (a bulk load: the
/// read models are then rebuilt from the events, which is what scenario 5 measures).
/// </summary>
public static class BulkLoad
{
    public sealed record Loaded(int Patients, long EventsWritten, long EventsInStore, double Seconds, double BuildSeconds, Guid SamplePatient);

    /// <summary>
    /// Loads <paramref name="clinic"/>'s year until the clinic has <paramref name="targetEvents"/> events: sessions of the
    /// installation's clinics' store opened for the clinic (its partitions and its own event sequence, in its database).
    /// </summary>
    public static async Task<Loaded> RunAsync(Installation installation, string clinic, long targetEvents, TimeZoneInfo zone)
    {
        const string schema = Installation.Schema;
        var dataSource = installation.ForClinic(clinic);
        var inStore = await CountAsync(dataSource, clinic);
        var calendar = new ClinicCalendar(TimeProvider.System, zone);
        var today = calendar.Today();
        var priceFrom = new DateOnly(today.Year, today.Month, 1).AddMonths(-13);
        var schedule = new FeeSchedule { Id = FeeSchedule.StreamId };
        var projection = new FeeScheduleProjection();
        foreach (var p in DemoSeeder.Prices) projection.Apply(new FeePriceSet(FeeSchedule.StreamId, p.Code, p.Description, p.Price, priceFrom, DateTimeOffset.UtcNow, p.CashPrice), schedule);

        // A pilot year of 200 patients gives the events a patient brings; then the year for as many as the target needs.
        var pilot = Events(PracticeStreams.Build(PracticePlan.For(today, 8, 150, 50), schedule, calendar), today, calendar);
        var perPatient = pilot / 200.0;
        var patients = Math.Max(200, (int)Math.Ceiling((targetEvents - inStore) / perPatient));
        var build = Stopwatch.StartNew();
        PracticeStreams Year(int n) => PracticeStreams.Build(PracticePlan.For(today, 8, n * 3 / 4, n - n * 3 / 4), schedule, calendar);
        var year = Year(patients);
        // A larger practice brings fewer events a patient (deposits are per day, not per patient): once more if short.
        var brought = Events(year, today, calendar);
        if (brought < targetEvents - inStore)
        {
            patients = (int)Math.Ceiling(patients * (double)(targetEvents - inStore) / brought * 1.01);
            year = Year(patients);
        }

        var buildSeconds = build.Elapsed.TotalSeconds;

        using var store = installation.ClinicStore();
        // The pool's databases and the clinics placed in them, read from the registry (the app seeds them from its settings).
        await store.Storage.AllDatabases();

        var watch = Stopwatch.StartNew();
        // The practice's payers, as the demo seeds them (documents, not events): the clinic's own (its partition).
        await using (var c = await dataSource.OpenConnectionAsync())
        {
            foreach (var payer in PracticePlan.Payers.Select(p => p.Payer))
            {
                await using var cmd = new NpgsqlCommand($"insert into {schema}.mt_doc_payer(tenant_id, id, data, mt_dotnet_type) values ($1, $2, $3::jsonb, $4) on conflict do nothing", c);
                cmd.Parameters.AddWithValue(clinic);
                cmd.Parameters.AddWithValue(payer.Id);
                cmd.Parameters.AddWithValue(store.Options.Serializer().ToJson(payer));
                cmd.Parameters.AddWithValue(typeof(Features.Payers.Payer).FullName!);
                await cmd.ExecuteNonQueryAsync();
            }
        }

        var remittances = year.Remittances.Select(Remittance.Create).ToList();
        var receipts = Receipts.From(remittances, year.Accounts.Select(a => a.Account), [], [], []);
        var written = 0L;
        // Four writers, 100 accounts a transaction.
        await Parallel.ForEachAsync(year.Accounts.Chunk(100), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (chunk, ct) =>
        {
            await using var session = store.LightweightSession(clinic);
            var n = 0;
            foreach (var account in chunk)
            {
                var stream = session.Events.StartStream<PatientAccount>(account.Account.Id, account.Events.ToArray());
                for (var i = 0; i < stream.Events.Count; i++) stream.Events[i].Timestamp = account.Timestamps[i];
                n += stream.Events.Count;
                foreach (var claim in account.Claims)
                {
                    var claimStream = session.Events.StartStream<Claim>(claim.Id, claim.Events.ToArray());
                    for (var i = 0; i < claimStream.Events.Count; i++) claimStream.Events[i].Timestamp = claim.Timestamps[i];
                    n += claimStream.Events.Count;
                }
            }

            await session.SaveChangesAsync(ct);
            Interlocked.Add(ref written, n);
        });

        await using (var session = store.LightweightSession(clinic))
        {
            foreach (var received in year.Remittances)
            {
                session.Events.StartStream<Remittance>(received.RemittanceId, received).Events[0].Timestamp = received.ReceivedAt;
                written++;
            }

            foreach (var (depositId, events, at) in DemoDeposits.For(receipts, today, calendar))
            {
                var deposit = session.Events.StartStream<BankDeposit>(depositId, events);
                foreach (var e in deposit.Events) e.Timestamp = at;
                written += events.Length;
            }

            await session.SaveChangesAsync();
        }

        // As after any bulk load: fresh planner statistics, or the rebuild's event queries run on the plans of an empty
        // table until autovacuum gets round to it (measured: the rebuild took 79-82 s instead of about 42).
        await using (var c = await dataSource.OpenConnectionAsync())
        await using (var analyze = new NpgsqlCommand($"analyze {schema}.mt_streams; analyze {schema}.mt_events", c) { CommandTimeout = 600 })
            await analyze.ExecuteNonQueryAsync();

        var seconds = watch.Elapsed.TotalSeconds;
        return new Loaded(patients, written, await CountAsync(dataSource, clinic), seconds, buildSeconds, year.Accounts[0].Account.Id);
    }

    /// <summary>The events a year brings: accounts, claims, remittances and the bank deposits of every receipt.</summary>
    private static long Events(PracticeStreams year, DateOnly today, ClinicCalendar calendar) =>
        year.Accounts.Sum(a => a.Events.Count + a.Claims.Sum(c => c.Events.Count)) + year.Remittances.Count +
        DemoDeposits.For(Receipts.From(year.Remittances.Select(Remittance.Create), year.Accounts.Select(a => a.Account), [], [], []), today, calendar).Sum(d => d.Events.Length);

    /// <summary>A clinic's events (<paramref name="dataSource"/>: its database).</summary>
    public static async Task<long> CountAsync(NpgsqlDataSource dataSource, string clinic)
    {
        await using var c = await dataSource.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand($"select count(*) from {Installation.Schema}.mt_events where tenant_id = $1", c)
            { Parameters = { new NpgsqlParameter { Value = clinic } } };
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>Every clinic's events in a database.</summary>
    public static async Task<long> CountAllAsync(NpgsqlDataSource dataSource)
    {
        await using var c = await dataSource.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand($"select count(*) from {Installation.Schema}.mt_events", c);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
