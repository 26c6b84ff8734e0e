using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Infrastructure;

/// <summary>
/// Collects what is wrong with a request, field by field, so the caller sees every rule it broke at once.
/// Field names are the JSON names the caller sent (camelCase, with list indexes).
/// </summary>
public sealed class ValidationProblems
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    public IReadOnlyDictionary<string, List<string>> Errors => _errors;

    public void Add(string field, string rule)
    {
        if (!_errors.TryGetValue(field, out var rules))
        {
            rules = [];
            _errors[field] = rules;
        }

        rules.Add(rule);
    }

    public void RequireText(string field, string? value, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Add(field, "is required");
        }
        else if (value.Trim().Length > maxLength)
        {
            Add(field, $"must be at most {maxLength} characters");
        }
    }

    public void RequireMoney(string field, decimal? value, decimal max)
    {
        if (value is not { } amount)
        {
            Add(field, "is required");
        }
        else if (amount < 0 || amount > max || decimal.Round(amount, 2) != amount)
        {
            Add(field, $"must be an amount from 0 to {max} with at most two decimals");
        }
    }

    /// <summary>No problems: Wolverine's sentinel that lets the request go on; else a 400.</summary>
    public ProblemDetails ToProblemDetails(int status = StatusCodes.Status400BadRequest) =>
        Any ? Build(status) : WolverineContinue.NoProblems;

    public IResult ToResult(int status) => Results.Problem(Build(status));

    public HttpValidationProblemDetails Build(int status) =>
        new(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray()))
        {
            Status = status,
            Title = status == StatusCodes.Status422UnprocessableEntity
                ? "The request is well formed but breaks a business rule"
                : "The request is not valid",
            Detail = string.Join("; ", _errors.Select(e => $"{e.Key} {string.Join(", ", e.Value)}"))
        };
}

public static class Problems
{
    /// <summary>One field broke one rule: a 400 (malformed) or 422 (well formed, against a business rule).</summary>
    public static IResult Invalid(string field, string rule, int status = StatusCodes.Status422UnprocessableEntity)
    {
        var problems = new ValidationProblems();
        problems.Add(field, rule);
        return problems.ToResult(status);
    }

    public static IResult Conflict(string detail) => Results.Problem(new ProblemDetails
    {
        Status = StatusCodes.Status409Conflict,
        Title = "Conflict",
        Detail = detail
    });

    public static IResult NotFound(string detail) => Results.Problem(new ProblemDetails
    {
        Status = StatusCodes.Status404NotFound,
        Title = "Not found",
        Detail = detail
    });

    public static IResult Unavailable(string detail) => Results.Problem(new ProblemDetails
    {
        Status = StatusCodes.Status503ServiceUnavailable,
        Title = "Try again shortly",
        Detail = detail
    });
}
