using JasperFx;
using Marten.Exceptions;
using Microsoft.Extensions.Primitives;
using Npgsql;

namespace KetamineBilling.Infrastructure;

/// <summary>
/// A command that lost a race on a stream (a version check, or an insert-only guard saved a moment before) is read and
/// decided again, a few times with a short jittered backoff, before anything is answered. The race is nearly always the
/// platform's own: the durable cascade of the client's previous command (authorization counting, an employer, grant or
/// study share) appending to the same account. Nothing of a lost attempt was saved (its transaction rolled back), and
/// every command carries its idempotency key, so deciding again is safe; a real conflict (same key with other content,
/// an illegal state change) is what the fresh decision itself answers, 409, at once. Only when every attempt lost does
/// the exception reach <see cref="ProblemExceptionHandler"/>, which answers 409.
/// </summary>
/// <remarks>
/// Wolverine 6.62's error policies (RetryNow, RetryWithCooldown) apply to message handlers only: an HTTP chain has no
/// failure rules, and its generated code lets the exception escape. Hence a middleware, placed inside the exception
/// handler and after authorization, that re-invokes the endpoint: the Wolverine handler opens a new Marten session (and
/// transaction) and a new message context on each call, and each attempt gets a fresh DI scope.
/// </remarks>
public sealed class DecideAgainMiddleware(RequestDelegate next, ILogger<DecideAgainMiddleware> logger)
{
    /// <summary>
    /// Attempts in all (the first and nine more, some 1.3 s of backoff at most): six lost the race once in 200 voids when the
    /// whole suite ran beside the cascades.
    /// </summary>
    public const int Attempts = 10;

    private static readonly HashSet<string> Commands = new(StringComparer.OrdinalIgnoreCase) { "POST", "PUT", "PATCH", "DELETE" };

    public async Task InvokeAsync(HttpContext context)
    {
        // API commands only (the UI's pages send theirs through the API too): sign-in forms and Blazor's own traffic pass by.
        if (!Commands.Contains(context.Request.Method) || !context.Request.Path.StartsWithSegments("/api") || context.GetEndpoint() is null)
        {
            await next(context);
            return;
        }

        // The body is read again by each attempt: kept in memory up to 30 KB, in a temporary file beyond (an 835).
        context.Request.EnableBuffering();
        var headers = context.Response.Headers.ToDictionary(h => h.Key, h => h.Value, StringComparer.OrdinalIgnoreCase);
        var originalServices = context.RequestServices;
        var scopes = context.RequestServices.GetRequiredService<IServiceScopeFactory>();
        for (var attempt = 1; ; attempt++)
        {
            AsyncServiceScope? scope = null;
            try
            {
                if (attempt > 1)
                {
                    scope = scopes.CreateAsyncScope();
                    context.RequestServices = scope.Value.ServiceProvider;
                }

                await next(context);
                return;
            }
            catch (Exception exception) when (attempt < Attempts && LostRace(exception) && !context.Response.HasStarted && Rewind(context))
            {
                var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "?";
                // The route template, never the path: ids and query strings stay out of the logs.
                logger.LogWarning("{Method} {Route} met a change saved first on the same record ({Exception}); deciding it again, attempt {Attempt} of {Attempts}",
                    context.Request.Method, route, exception.GetType().Name, attempt + 1, Attempts);
                Reset(context, headers);
                await Task.Delay(Backoff(attempt), context.RequestAborted);
            }
            finally
            {
                if (scope is { } used)
                {
                    context.RequestServices = originalServices;
                    await used.DisposeAsync();
                }
            }
        }
    }

    /// <summary>About 10, 20, 40, 80, 160 ms, then 250 ms, each between half and one and a half of that: racing attempts fall out of step.</summary>
    public static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(Math.Min(250, 10 * Math.Pow(2, attempt - 1)) * (0.5 + Random.Shared.NextDouble()));

    /// <summary>
    /// A lost race: a stream version check (any <see cref="ConcurrencyException"/>, Marten's exclusive stream lock, a
    /// stream started twice), or a unique key met at commit (the stream-version key, or an insert-only guard document).
    /// </summary>
    public static bool LostRace(Exception? exception) => exception switch
    {
        null => false,
        ConcurrencyException or ExistingStreamIdCollisionException or StreamLockedException or DocumentAlreadyExistsException => true,
        PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } => true,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(LostRace),
        MartenCommandException or NpgsqlException => LostRace(exception.InnerException),
        _ => false
    };

    private static bool Rewind(HttpContext context)
    {
        if (!context.Request.Body.CanSeek) return false;
        context.Request.Body.Position = 0;
        return true;
    }

    /// <summary>The response as it was before the endpoint ran (its status and any header it set are dropped).</summary>
    private static void Reset(HttpContext context, Dictionary<string, StringValues> headers)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.Headers.Clear();
        foreach (var (name, value) in headers) context.Response.Headers[name] = value;
    }
}
