using System.Text.Json;
using JasperFx;
using Marten.Exceptions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace KetamineBilling.Infrastructure;

/// <summary>
/// Turns the failures a caller can cause or fix into ProblemDetails: a write that lost a race is a 409
/// (try again), a body that cannot be read is a 400. Anything else is a 500 that says nothing internal.
/// </summary>
public sealed class ProblemExceptionHandler(ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        var (status, title, detail) = Classify(exception);
        if (status == StatusCodes.Status500InternalServerError)
        {
            logger.LogError(exception, "Unhandled failure on {Method} {Path}", context.Request.Method, context.Request.Path);
        }
        else
        {
            logger.LogInformation("Request refused with {Status}: {Reason}", status, exception.GetType().Name);
        }

        context.Response.StatusCode = status;
        if (status == StatusCodes.Status503ServiceUnavailable) context.Response.Headers.RetryAfter = "1";
        var details = new ProblemDetails { Status = status, Title = title, Detail = detail };
        details.Extensions["correlationId"] = context.TraceIdentifier;
        // Written directly: the problem-details service declines when the request's Accept header names no JSON,
        // and an error must still say what happened.
        await Results.Problem(details).ExecuteAsync(context);
        return true;
    }

    /// <summary>
    /// The database was restarted, failed over or out of reach: a transient Npgsql error anywhere in the exception's
    /// causes (a transaction disposed by a terminated connection surfaces as ObjectDisposedException around it).
    /// </summary>
    public static bool DatabaseWentAway(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException { IsTransient: true } or PostgresException { SqlState: ['5', '7', 'P', ..] or ['0', '8', ..] }) return true;
            if (e is AggregateException aggregate && aggregate.InnerExceptions.Any(DatabaseWentAway)) return true;
        }

        return false;
    }

    public static (int Status, string Title, string Detail) Classify(Exception exception) => exception switch
    {
        ConcurrencyException or Marten.Exceptions.ExistingStreamIdCollisionException =>
            (StatusCodes.Status409Conflict, "Conflict",
                "Another change to the same record was saved first. Reload and try again; nothing of this request was saved."),
        // An insert-only guard document (session owner, payment owner, deposited receipt) met one saved a moment before.
        JasperFx.DocumentAlreadyExistsException or
        PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } or MartenCommandException { InnerException: PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } } =>
            (StatusCodes.Status409Conflict, "Conflict",
                "A record with the same key was saved at the same moment. Nothing of this request was saved."),
        // The database went away for a moment (restart, failover, network): the client may send the same request
        // again; its idempotency key makes the retry safe whether or not the first attempt was saved.
        _ when DatabaseWentAway(exception) =>
            (StatusCodes.Status503ServiceUnavailable, "The database is not reachable",
                "The database did not answer. Send the same request again in a moment: its idempotency key makes the retry safe."),
        // Kestrel stopped reading a body over the endpoint's limit (the anonymous endpoints' cap).
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
            (StatusCodes.Status413PayloadTooLarge, "The request body is too large", "body: larger than this endpoint accepts; nothing was read or saved."),
        BadHttpRequestException or JsonException =>
            (StatusCodes.Status400BadRequest, "The request is not valid", "The request body could not be read as the expected JSON."),
        _ => (StatusCodes.Status500InternalServerError, "Unexpected error",
            "The request failed unexpectedly. Nothing was saved; the correlation id on this response finds it in the logs.")
    };
}
