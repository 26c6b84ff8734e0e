using Marten;
using JasperFx.Events;
using Microsoft.AspNetCore.Mvc;

namespace KetamineBilling.Infrastructure;

/// <summary>
/// What every command's pure <c>Decide(state, command)</c> returns: the events to append, stream by stream, with the
/// answer to give (<see cref="Accepted"/>); the answer a request with the same idempotency key already had
/// (<see cref="Replayed"/>); or a refusal naming the field, the rule and the status (<see cref="Rejected"/>).
/// The handler around it only loads, appends (<see cref="OutcomeAppends"/>) and answers (<see cref="OutcomeHttp"/>).
/// </summary>
public abstract record Outcome
{
    /// <summary>The events for one stream. <paramref name="StartAs"/>: the aggregate type when the decision starts the stream.</summary>
    public sealed record StreamEvents(object StreamId, IReadOnlyList<object> Events, Type? StartAs = null);

    /// <summary>The command is accepted: these events, these messages to other areas, this answer.</summary>
    public sealed record Accepted(
        IReadOnlyList<StreamEvents> Streams, IReadOnlyList<object> Messages, object? Answer, int Status, string? Location) : Outcome
    {
        /// <summary>Adds events to a stream that exists (or, for a patient's account, one the handler loaded).</summary>
        public Accepted Append(object streamId, params IEnumerable<object?> events)
        {
            var list = events.OfType<object>().ToList();
            return list.Count == 0 ? this : this with { Streams = [.. Streams, new StreamEvents(streamId, list)] };
        }

        /// <summary>Starts a new stream of aggregate <typeparamref name="T"/>.</summary>
        public Accepted Start<T>(object streamId, params IEnumerable<object> events) where T : class =>
            this with { Streams = [.. Streams, new StreamEvents(streamId, events.ToList(), typeof(T))] };

        /// <summary>Messages another area handles after the events are saved, in the same transaction (Wolverine's outbox).</summary>
        public Accepted Send(params IEnumerable<object?> messages) =>
            this with { Messages = [.. Messages, .. messages.OfType<object>()] };
    }

    /// <summary>The same request was made before and is not made again: the answer it had, nothing appended.</summary>
    public sealed record Replayed(object? Answer) : Outcome;

    /// <summary>Refused: every field with the rules it broke (or a detail when no one field is to blame).</summary>
    /// <param name="Title">The problem's title when no field is to blame and the status's usual title would not say it.</param>
    public sealed record Rejected(int Status, IReadOnlyDictionary<string, string[]> Errors, string? Detail = null, string? Title = null) : Outcome;

    /// <summary>Accepted; the answer is a 200 with <paramref name="answer"/> (or a 204 when null).</summary>
    public static Accepted Ok(object? answer) => new([], [], answer, answer is null ? StatusCodes.Status204NoContent : StatusCodes.Status200OK, null);

    /// <summary>Accepted; the answer is a 201 at <paramref name="location"/>.</summary>
    public static Accepted Created(string location, object? answer) => new([], [], answer, StatusCodes.Status201Created, location);

    /// <summary>Accepted with a status of the endpoint's own (202 for work that goes on after the answer).</summary>
    public static Accepted WithStatus(int status, object? answer) => new([], [], answer, status, null);

    public static Replayed Replay(object? answer) => new(answer);

    /// <summary>One field broke one rule: 422 (well formed, against a business rule) unless told otherwise.</summary>
    public static Rejected Reject(string field, string rule, int status = StatusCodes.Status422UnprocessableEntity) =>
        new(status, new Dictionary<string, string[]> { [field] = [rule] });

    /// <summary>Every field and rule the problems collected.</summary>
    public static Rejected Reject(ValidationProblems problems, int status = StatusCodes.Status422UnprocessableEntity) =>
        new(status, problems.Errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));

    /// <summary>A real conflict: the idempotency key was used with other content, or the state forbids it now.</summary>
    public static Rejected Conflict(string detail) => new(StatusCodes.Status409Conflict, new Dictionary<string, string[]>(), detail);

    public static Rejected NotFound(string detail) => new(StatusCodes.Status404NotFound, new Dictionary<string, string[]>(), detail);

    /// <summary>A refusal no one field is to blame for, with a title of its own (a file too large, a posting cut short).</summary>
    public static Rejected Problem(int status, string title, string detail) => new(status, new Dictionary<string, string[]>(), detail, title);

    /// <summary>The events this outcome appends to one stream (none when rejected or replayed).</summary>
    public IReadOnlyList<object> EventsFor(object streamId) => this is Accepted accepted
        ? accepted.Streams.Where(s => Equals(s.StreamId, streamId)).SelectMany(s => s.Events).ToList()
        : [];

    /// <summary>Every event of the outcome, in order, whatever its stream.</summary>
    public IReadOnlyList<object> AllEvents => this is Accepted accepted ? accepted.Streams.SelectMany(s => s.Events).ToList() : [];

    public IReadOnlyList<object> OutgoingMessages => this is Accepted accepted ? accepted.Messages : [];

    public bool IsAccepted => this is Accepted;
}

/// <summary>The one mapping of an outcome to HTTP.</summary>
public static class OutcomeHttp
{
    public static IResult ToResult(this Outcome outcome) => outcome switch
    {
        Outcome.Accepted { Location: { } location } a => Results.Created(location, a.Answer),
        Outcome.Accepted { Answer: null, Status: var status } => Results.StatusCode(status),
        Outcome.Accepted { Status: StatusCodes.Status200OK } a => Results.Ok(a.Answer),
        Outcome.Accepted a => Results.Json(a.Answer, statusCode: a.Status),
        Outcome.Replayed { Answer: null } => Results.NoContent(),
        Outcome.Replayed r => Results.Ok(r.Answer),
        Outcome.Rejected r => Results.Problem(Problem(r)),
        _ => throw new InvalidOperationException($"an outcome of type {outcome.GetType().Name} has no HTTP mapping")
    };

    public static ProblemDetails Problem(Outcome.Rejected rejected)
    {
        if (rejected.Errors.Count == 0)
        {
            return new ProblemDetails
            {
                Status = rejected.Status,
                Title = rejected.Title ?? rejected.Status switch
                {
                    StatusCodes.Status409Conflict => "Conflict",
                    StatusCodes.Status404NotFound => "Not found",
                    _ => "The request is not valid"
                },
                Detail = rejected.Detail
            };
        }

        var problems = new ValidationProblems();
        foreach (var (field, rules) in rejected.Errors)
        {
            foreach (var rule in rules) problems.Add(field, rule);
        }

        return problems.Build(rejected.Status);
    }
}

/// <summary>Appends an accepted outcome's events through a Marten session.</summary>
public static class OutcomeAppends
{
    /// <summary>A stream the handler fetched for writing: its events go through it, so its version check holds.</summary>
    public sealed record FetchedStream(object StreamId, Action<IReadOnlyList<object>> Append);

    public static FetchedStream Writing<T>(this IEventStream<T> stream) where T : class =>
        new(string.IsNullOrEmpty(stream.Key) ? stream.Id : stream.Key, events => stream.AppendMany(events));

    /// <summary>
    /// Appends every stream's events: to the streams the handler fetched for writing through them, to new streams by
    /// starting them, to any other stream directly. Nothing when the outcome is not accepted.
    /// </summary>
    public static void AppendTo(this Outcome outcome, IDocumentSession session, params IEnumerable<FetchedStream> fetched)
    {
        if (outcome is not Outcome.Accepted accepted) return;
        var streams = fetched.ToList();
        foreach (var change in accepted.Streams)
        {
            var stream = streams.FirstOrDefault(s => Equals(s.StreamId, change.StreamId));
            if (stream is not null)
            {
                stream.Append(change.Events);
            }
            else if (change.StartAs is { } type)
            {
                if (change.StreamId is Guid guid) session.Events.StartStream(type, guid, change.Events.ToArray());
                else session.Events.StartStream(type, (string)change.StreamId, change.Events.ToArray());
            }
            else if (change.StreamId is Guid guid)
            {
                session.Events.Append(guid, change.Events.ToArray());
            }
            else
            {
                session.Events.Append((string)change.StreamId, change.Events.ToArray());
            }
        }
    }
}
