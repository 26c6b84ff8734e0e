using KetamineBilling.Features.Ui;
using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Patients;

public record InstalmentInput(DateOnly? DueOn, decimal? Amount);

/// <param name="PlanId">Made by the client: the idempotency key.</param>
public record AgreePaymentPlan(Guid PlanId, DateOnly? AgreedOn, IReadOnlyList<InstalmentInput>? Instalments);

public enum InstalmentStatus { Paid, PartlyPaid, Missed, Due, Upcoming }

public record InstalmentView(int Number, DateOnly DueOn, decimal Amount, decimal PaidTowards, string Status);

public record PaymentPlanView(Guid PlanId, DateOnly AgreedOn, decimal Total, decimal PaidSinceAgreed, int MissedInstalments, IReadOnlyList<InstalmentView> Instalments);

public static class PaymentPlanRules
{
    /// <summary>
    /// Patient payments received on or after a plan's agreement (and by the day asked about) pay its instalments
    /// in order; each payment counts once, toward the earliest plan still owed. An instalment whose due date has
    /// passed without being covered is missed. Computed for a day, never stored: "missed" depends on the day.
    /// </summary>
    public static IReadOnlyList<PaymentPlanView> Views(PatientAccount account, DateOnly asOf)
    {
        var pool = account.Payments
            .Where(p => !p.Reversed && p.ReceivedOn <= asOf)
            .OrderBy(p => p.ReceivedOn)
            .Select(p => (p.ReceivedOn, Left: p.Amount - p.Refunded))
            .ToList();
        var views = new List<PaymentPlanView>();
        foreach (var plan in account.Plans.OrderBy(p => p.AgreedOn).ThenBy(p => p.AgreedAt))
        {
            var paid = 0m;
            for (var i = 0; i < pool.Count && paid < plan.Total; i++)
            {
                if (pool[i].ReceivedOn < plan.AgreedOn || pool[i].Left <= 0) continue;
                var take = Math.Min(pool[i].Left, plan.Total - paid);
                pool[i] = (pool[i].ReceivedOn, pool[i].Left - take);
                paid += take;
            }

            views.Add(View(plan, paid, asOf));
        }

        return views;
    }

    private static PaymentPlanView View(PaymentPlanAgreed plan, decimal paid, DateOnly today)
    {
        var left = paid;
        var views = new List<InstalmentView>();
        foreach (var i in plan.Instalments.OrderBy(i => i.Number))
        {
            var towards = Math.Min(left, i.Amount);
            left -= towards;
            var status = towards == i.Amount ? InstalmentStatus.Paid
                : i.DueOn < today ? InstalmentStatus.Missed
                : i.DueOn == today ? InstalmentStatus.Due
                : towards > 0 ? InstalmentStatus.PartlyPaid
                : InstalmentStatus.Upcoming;
            views.Add(new InstalmentView(i.Number, i.DueOn, i.Amount, towards, status.ToString().ToLowerInvariant()));
        }

        return new PaymentPlanView(plan.PlanId, plan.AgreedOn, plan.Total, paid, views.Count(v => v.Status == "missed"), views);
    }

    /// <summary>What plans already agreed still have to collect, as of a day.</summary>
    public static decimal Scheduled(PatientAccount account, DateOnly asOf) => Views(account, asOf).Sum(v => v.Total - v.PaidSinceAgreed);
}

public static class AgreePaymentPlanEndpoint
{
    public static ProblemDetails Validate(AgreePaymentPlan command)
    {
        var problems = new ValidationProblems();
        if (command.PlanId == Guid.Empty) problems.Add("planId", "is required: a client-made id that makes the plan idempotent");
        if (command.Instalments is not { Count: > 0 and <= 60 }) problems.Add("instalments", "must hold from 1 to 60 instalments");
        else
        {
            for (var i = 0; i < command.Instalments.Count; i++)
            {
                if (command.Instalments[i] is null)
                {
                    problems.Add($"instalments[{i}]", "is required: {dueOn, amount}");
                    continue;
                }

                if (command.Instalments[i].DueOn is null) problems.Add($"instalments[{i}].dueOn", "is required (yyyy-MM-dd)");
                problems.RequirePositive($"instalments[{i}].amount", command.Instalments[i].Amount);
                if (i > 0 && command.Instalments[i - 1] is not null && command.Instalments[i].DueOn <= command.Instalments[i - 1].DueOn)
                    problems.Add($"instalments[{i}].dueOn", "must be after the previous instalment's");
            }
        }

        return problems.ToProblemDetails();
    }

    /// <summary>A plan schedules what the patient owes: its total may not exceed the open patient amount.</summary>
    public static (IResult Result, object[] Events) Decide(AgreePaymentPlan command, PatientAccount account, DateOnly today, DateTimeOffset now)
    {
        var instalments = command.Instalments!.Select((i, n) => new Instalment(n + 1, i.DueOn!.Value, i.Amount!.Value)).ToList();
        var total = instalments.Sum(i => i.Amount);
        if (account.Plans.FirstOrDefault(p => p.PlanId == command.PlanId) is { } existing)
        {
            return existing.Instalments.SequenceEqual(instalments)
                ? (Results.Ok(PaymentPlanRules.Views(account, today).First(v => v.PlanId == existing.PlanId)), [])
                : (Problems.Conflict($"payment plan {command.PlanId} was already agreed with other content"), []);
        }

        // Plans schedule what the patient owes, once: not more than is open beyond what earlier plans still collect.
        var unscheduled = account.Open().Patient - account.UnappliedCredit - PaymentPlanRules.Scheduled(account, today);
        if (total > unscheduled)
        {
            return (Problems.Invalid("instalments", $"add up to {Fmt.Money(total)}, more than the {Fmt.Money(Math.Max(unscheduled, 0))} the patient owes beyond plans already agreed", StatusCodes.Status422UnprocessableEntity), []);
        }

        var agreed = new PaymentPlanAgreed(account.Id, command.PlanId, instalments, total, command.AgreedOn ?? today, now);
        var after = Snapshot.Copy(account);
        after.Apply(agreed);
        return (Results.Created($"/api/patients/{account.Id}/payment-plans", PaymentPlanRules.Views(after, today).First(v => v.PlanId == agreed.PlanId)), [agreed]);
    }

    [WolverinePost("/api/patients/{patientId}/payment-plans"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        AgreePaymentPlan command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account,
        ClinicCalendar calendar, TimeProvider clock)
    {
        var (result, events) = Decide(command, account, calendar.Today(), clock.GetUtcNow());
        return (result, [.. events]);
    }
}

public static class PaymentPlanQueries
{
    [PhiRead("payment-plans")]
    [WolverineGet("/api/patients/{patientId}/payment-plans"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static async Task<IResult> Get(Guid patientId, DateOnly? asOf, IQuerySession session, ClinicCalendar calendar, CancellationToken ct)
    {
        var account = await session.LoadAsync<PatientAccount>(patientId, ct);
        if (account is null) return Problems.NotFound($"patient {patientId} does not exist");
        var day = asOf ?? calendar.Today();
        return Results.Ok(PaymentPlanRules.Views(account, day));
    }
}
