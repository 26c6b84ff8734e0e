using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Clearinghouse;

public static class ExchangeWithClearinghouseEndpoint
{
    /// <summary>
    /// Exchanges the clinic's files with its clearinghouse now rather than at the next check: what waits to go is sent, what
    /// came back is imported. When a node is exchanging the clinic at this moment, this waits for it and then runs. 422 when
    /// no clearinghouse is set up.
    /// </summary>
    [WolverinePost("/api/clearinghouse/exchange"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<IResult> Post(IQuerySession session, IClearinghouse clearinghouse, ClearinghouseExchange exchange, CancellationToken ct)
    {
        if (!clearinghouse.Enabled)
            return Outcome.Reject("clearinghouse", $"is not set up for this platform (setting {DropFolderClearinghouse.Setting}): download and upload the files by hand").ToResult();
        return Results.Ok(await exchange.ExchangeAsync(session.TenantId, ct, wait: true));
    }
}
