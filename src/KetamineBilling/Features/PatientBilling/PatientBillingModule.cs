using JasperFx.Events.Projections;
using Marten;

namespace KetamineBilling.Features.PatientBilling;

public static class PatientBillingModule
{
    public static void AddPatientBilling(this WebApplicationBuilder builder)
    {
        builder.Services.ConfigureMarten(opts =>
        {
            opts.Projections.Snapshot<StatementRun>(SnapshotLifecycle.Inline);
            opts.Projections.Snapshot<StatementPolicyState>(SnapshotLifecycle.Inline);
            opts.Projections.Add<PatientStatementsProjection>(ProjectionLifecycle.Inline);
            opts.Schema.For<PatientStatements>();
            opts.Schema.For<StatementRun>().Duplicate(r => r.CompletedAt);
            opts.Schema.For<PaymentLinkAttempts>();
            opts.Schema.For<ProcessorEventRecord>().Identity(x => x.Id);
            opts.Projections.Snapshot<CardPayment>(SnapshotLifecycle.Inline);
            opts.Projections.Snapshot<ProcessorPayout>(SnapshotLifecycle.Inline);
            opts.Projections.Snapshot<Autopay>(SnapshotLifecycle.Inline);
            opts.Schema.For<Autopay>().Duplicate(a => a.PatientId);
            opts.Schema.For<ProcessorPayout>().Duplicate(p => p.ArrivalDate);
        });
        builder.Services.AddSingleton(MailOptions.FromConfiguration(builder.Configuration));
        builder.Services.AddSingleton<StatementMailer>();
        builder.Services.AddSingleton<StatementLinks>();
        builder.Services.AddHttpClient("stripe");
        builder.Services.AddSingleton<CardProcessor>();
        builder.Services.AddSingleton<PaymentPage.ProcessorPages>();
        builder.Services.AddSingleton<StatementCycleService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StatementCycleService>());
        builder.Services.AddSingleton<AutopayService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AutopayService>());
    }
}
