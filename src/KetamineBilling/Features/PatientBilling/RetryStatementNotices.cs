using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.PatientBilling;

public static class RetryStatementNoticesEndpoint
{
    /// <summary>Sends the run's failed notices again (each once more); none failed is a 409.</summary>
    [WolverinePost("/api/statement-runs/{runId}/notices/retry"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Statements")]
    public static async Task<(IResult, Wolverine.OutgoingMessages)> Retry(Guid runId, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<StatementRun>(runId, ct);
        if (stream.Aggregate is not { } run) return (Problems.NotFound($"statement run {runId} does not exist"), []);
        var failed = run.Statements.Where(s => s.Notice == NoticeState.Failed).Select(s => s.StatementId).ToList();
        if (failed.Count == 0) return (Problems.Conflict("no notice of this run has failed: there is nothing to send again"), []);
        var retried = new StatementNoticesRetried(runId, failed, clock.GetUtcNow());
        stream.AppendOne(retried);
        run.Apply(retried);
        var messages = new Wolverine.OutgoingMessages();
        messages.AddRange(failed.Select(id => new SendStatementNotice(runId, id)));
        return (Results.Ok(StatementRunView.From(run)), messages);
    }
}
