using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace KetamineBilling.Tests.Platform;

/// <summary>The one outcome type of every Decide and its one mapping to HTTP (Infrastructure/Outcome.cs), without a host.</summary>
public class outcome_mapping
{
    private sealed record Answer(string Text);

    private sealed record Happened(int N);

    private static int Status(IResult result) => Assert.IsAssignableFrom<IStatusCodeHttpResult>(result).StatusCode!.Value;

    private static object? Value(IResult result) => Assert.IsAssignableFrom<IValueHttpResult>(result).Value;

    private static ProblemDetails Problem(IResult result) => Assert.IsType<ProblemHttpResult>(result).ProblemDetails;

    [Fact]
    public void ok_is_a_200_with_the_answer()
    {
        var result = Outcome.Ok(new Answer("done")).ToResult();
        Assert.Equal(StatusCodes.Status200OK, Status(result));
        Assert.Equal(new Answer("done"), Value(result));
    }

    [Fact]
    public void ok_without_an_answer_is_a_204() =>
        Assert.Equal(StatusCodes.Status204NoContent, Status(Outcome.Ok(null).ToResult()));

    [Fact]
    public void created_is_a_201_at_its_location_with_the_answer()
    {
        var result = Outcome.Created("/api/things/1", new Answer("made")).ToResult();
        Assert.Equal(StatusCodes.Status201Created, Status(result));
        Assert.Equal("/api/things/1", Assert.IsAssignableFrom<Created<object?>>(result).Location);
        Assert.Equal(new Answer("made"), Value(result));
    }

    [Fact]
    public void an_own_status_is_kept_with_the_answer()
    {
        var result = Outcome.WithStatus(StatusCodes.Status202Accepted, new Answer("later")).ToResult();
        Assert.Equal(StatusCodes.Status202Accepted, Status(result));
        Assert.Equal(new Answer("later"), Value(result));
    }

    [Fact]
    public void a_replay_is_a_200_with_the_answer_it_had_or_a_204()
    {
        var result = Outcome.Replay(new Answer("before")).ToResult();
        Assert.Equal(StatusCodes.Status200OK, Status(result));
        Assert.Equal(new Answer("before"), Value(result));
        Assert.Equal(StatusCodes.Status204NoContent, Status(Outcome.Replay(null).ToResult()));
    }

    [Fact]
    public void a_rejection_is_a_422_naming_the_field_and_the_rule()
    {
        var problem = Assert.IsType<HttpValidationProblemDetails>(Problem(Outcome.Reject("amount", "must be more than zero").ToResult()));
        Assert.Equal(StatusCodes.Status422UnprocessableEntity, problem.Status);
        Assert.Equal("The request is well formed but breaks a business rule", problem.Title);
        Assert.Equal(["must be more than zero"], problem.Errors["amount"]);
        Assert.Equal("amount must be more than zero", problem.Detail);
    }

    [Fact]
    public void a_rejection_with_its_own_status_keeps_it_and_every_field()
    {
        var problems = new ValidationProblems();
        problems.Add("code", "is required");
        problems.Add("units", "must be 1 or more");
        var problem = Assert.IsType<HttpValidationProblemDetails>(Problem(Outcome.Reject(problems, StatusCodes.Status400BadRequest).ToResult()));
        Assert.Equal(StatusCodes.Status400BadRequest, problem.Status);
        Assert.Equal("The request is not valid", problem.Title);
        Assert.Equal(["code", "units"], problem.Errors.Keys.Order());
    }

    [Fact]
    public void a_conflict_is_a_409_with_its_detail()
    {
        var problem = Problem(Outcome.Conflict("deposit 1 was already recorded with other details").ToResult());
        Assert.Equal(StatusCodes.Status409Conflict, problem.Status);
        Assert.Equal("Conflict", problem.Title);
        Assert.Equal("deposit 1 was already recorded with other details", problem.Detail);
    }

    [Fact]
    public void not_found_is_a_404_with_its_detail()
    {
        var problem = Problem(Outcome.NotFound("deposit 1 does not exist").ToResult());
        Assert.Equal(StatusCodes.Status404NotFound, problem.Status);
        Assert.Equal("Not found", problem.Title);
        Assert.Equal("deposit 1 does not exist", problem.Detail);
    }

    [Fact]
    public void events_for_a_stream_are_its_own_in_order_and_none_when_rejected_or_replayed()
    {
        var one = Guid.NewGuid();
        var two = Guid.NewGuid();
        var outcome = Outcome.Ok(null).Append(one, new Happened(1)).Start<Answer>(two, new Happened(2)).Append(one, new Happened(3), null);
        Assert.Equal([new Happened(1), new Happened(3)], outcome.EventsFor(one));
        Assert.Equal([new Happened(2)], outcome.EventsFor(two));
        Assert.Empty(outcome.EventsFor(Guid.NewGuid()));
        Assert.Equal([new Happened(1), new Happened(2), new Happened(3)], outcome.AllEvents);
        Assert.Equal(typeof(Answer), Assert.IsType<Outcome.Accepted>(outcome).Streams.Single(s => Equals(s.StreamId, two)).StartAs);
        Assert.Empty(Outcome.Reject("x", "y").EventsFor(one));
        Assert.Empty(Outcome.Replay(null).EventsFor(one));
    }

    [Fact]
    public void appending_no_events_adds_no_stream_and_messages_are_kept_apart()
    {
        var outcome = Outcome.Ok(null).Append(Guid.NewGuid(), (object?)null).Send(new Happened(9), null);
        Assert.Empty(Assert.IsType<Outcome.Accepted>(outcome).Streams);
        Assert.Equal([new Happened(9)], outcome.OutgoingMessages);
        Assert.Empty(outcome.AllEvents);
    }
}
