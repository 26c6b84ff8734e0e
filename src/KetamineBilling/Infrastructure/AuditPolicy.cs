using JasperFx;
using JasperFx.CodeGeneration;
using JasperFx.CodeGeneration.Frames;
using JasperFx.Events;
using Marten;
using Wolverine;
using Wolverine.Configuration;
using Wolverine.Runtime.Handlers;
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

        // A request's own events have no causing event (Marten would otherwise take the trace's parent span id).
        session.CausationId = null;
        if (httpContext.User.FindFirst(UserClaims.UserId)?.Value is { } userId)
        {
            // Marten's user_name column is not written by the quick append mode; headers are.
            session.LastModifiedBy = userId;
            session.SetHeader(UserIdHeader, userId);
            // The messages the request cascades carry the user to the follow-up work (Wolverine relays the envelope's user
            // name, EnableRelayOfUserName; Wolverine.Http put the principal's name there, the user id is what events record).
            messaging.UserName = userId;
        }
    }

    /// <summary>
    /// Stamps the events follow-up work appends (a message handler, run after the request that cascaded its message) with
    /// the request's user and correlation id, and the id of the event that caused the message (<see cref="FollowUps.CausedBy"/>).
    /// </summary>
    public static void ApplyToFollowUp(IMessageContext context, IDocumentSession session)
    {
        var envelope = context.Envelope;
        session.CorrelationId = envelope?.CorrelationId ?? context.CorrelationId;
        // Only an event's id is a causation id: a message without one (sent before causes were named) leaves it empty
        // rather than take Wolverine's conversation id.
        session.CausationId = envelope is not null && envelope.Headers.TryGetValue(CausationIdHeader, out var cause) && Guid.TryParse(cause, out _)
            ? cause
            : null;
        if (envelope?.UserName is { Length: > 0 } userId)
        {
            session.LastModifiedBy = userId;
            session.SetHeader(UserIdHeader, userId);
        }
    }

    /// <summary>The envelope header Wolverine writes <see cref="DeliveryOptions.CausationId"/> to.</summary>
    public const string CausationIdHeader = "causation-id";

    /// <summary>A session of its own for a unit of work inside a request, audited as the request's session is.</summary>
    public static IDocumentSession OpenLike(IDocumentStore store, IDocumentSession request)
    {
        var session = store.LightweightSession(request.TenantId);
        session.CorrelationId = request.CorrelationId;
        session.CausationId = request.CausationId;
        session.LastModifiedBy = request.LastModifiedBy;
        if (request.GetHeader(UserIdHeader) is { } userId) session.SetHeader(UserIdHeader, userId);
        return session;
    }
}

/// <summary>
/// Follow-up work: a request that appends an event other areas act on names that event as the cause of the messages it
/// cascades, so the events the handlers append carry its id as their causation id.
/// </summary>
public static class FollowUps
{
    /// <summary>The event wrapped with its store id chosen now (Marten keeps the id of an event appended wrapped).</summary>
    public static IEvent<T> Identified<T>(T data) where T : notnull => new Event<T>(data) { Id = Guid.CreateVersion7() };

    /// <summary>The messages, each sent with <paramref name="cause"/>'s id as its causation id.</summary>
    public static OutgoingMessages CausedBy(this OutgoingMessages messages, IEvent cause)
    {
        var caused = new OutgoingMessages();
        foreach (var message in messages)
        {
            caused.Add(new DeliveryMessage<object>(message, new DeliveryOptions { CausationId = cause.Id.ToString() }));
        }

        return caused;
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

/// <summary>Every message handler that writes through a Marten session stamps its events as follow-up work (<see cref="AuditMiddleware.ApplyToFollowUp"/>).</summary>
public sealed class FollowUpAuditPolicy : IHandlerPolicy
{
    public void Apply(IReadOnlyList<HandlerChain> chains, GenerationRules rules, IServiceContainer container)
    {
        foreach (var chain in chains.Where(c => WritesEvents(c, container)))
        {
            chain.Middleware.Insert(0, new MethodCall(typeof(AuditMiddleware), nameof(AuditMiddleware.ApplyToFollowUp)));
        }
    }

    private static bool WritesEvents(HandlerChain chain, IServiceContainer container) =>
        chain.ServiceDependencies(container, Type.EmptyTypes).Contains(typeof(IDocumentSession))
        || chain.Handlers.Any(h => h.Method.GetParameters().Any(p => p.ParameterType == typeof(IDocumentSession)));
}
