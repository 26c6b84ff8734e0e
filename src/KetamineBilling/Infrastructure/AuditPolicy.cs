using JasperFx;
using JasperFx.CodeGeneration;
using JasperFx.CodeGeneration.Frames;
using Marten;
using Wolverine;
using Wolverine.Http;
using Wolverine.Marten;

namespace KetamineBilling.Infrastructure;

/// <summary>
/// Stamps every event a request appends with who caused it and the request's correlation id, so the
/// audit trail of any stream answers who, when (the event timestamp) and what.
/// </summary>
public static class AuditMiddleware
{
    /// <summary>The event header that holds the id of the user who caused the event.</summary>
    public const string UserIdHeader = "user-id";

    public static void Apply(HttpContext httpContext, IMessageContext messaging, IDocumentSession session)
    {
        var correlationId = httpContext.Request.Headers[Logging.CorrelationHeader].ToString();
        if (correlationId.Length > 0)
        {
            messaging.CorrelationId = correlationId;
            // The session copied the message context's id when it opened, before any middleware ran.
            session.CorrelationId = correlationId;
        }

        if (httpContext.User.FindFirst(UserClaims.UserId)?.Value is { } userId)
        {
            // Marten's user_name column is not written by the quick append mode; headers are.
            session.LastModifiedBy = userId;
            session.SetHeader(UserIdHeader, userId);
        }
    }

    /// <summary>A session of its own for a unit of work inside a request, audited as the request's session is.</summary>
    public static IDocumentSession OpenLike(IDocumentStore store, IDocumentSession request)
    {
        var session = store.LightweightSession();
        session.CorrelationId = request.CorrelationId;
        session.CausationId = request.CausationId;
        session.LastModifiedBy = request.LastModifiedBy;
        if (request.GetHeader(UserIdHeader) is { } userId) session.SetHeader(UserIdHeader, userId);
        return session;
    }
}

public sealed class AuditPolicy : IHttpPolicy
{
    public void Apply(IReadOnlyList<HttpChain> chains, GenerationRules rules, IServiceContainer container)
    {
        foreach (var chain in chains.Where(c => AppendsEvents(c, container)))
        {
            chain.Middleware.Insert(0, new MethodCall(typeof(AuditMiddleware), nameof(AuditMiddleware.Apply)));
        }
    }

    // The aggregate workflow ([WriteAggregate]) opens its session through Wolverine's outbox factory, which
    // does not show as a service dependency when policies run: look for the attribute as well.
    private static bool AppendsEvents(HttpChain chain, IServiceContainer container) =>
        chain.ServiceDependencies(container, Type.EmptyTypes).Contains(typeof(IDocumentSession))
        || chain.Method.Method.GetParameters().Any(p => p.IsDefined(typeof(WriteAggregateAttribute), inherit: true));
}
