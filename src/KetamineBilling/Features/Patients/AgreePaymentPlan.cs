using KetamineBilling.Features.Ui;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

/// <param name="PlanId">Made by the client: the idempotency key.</param>
public record AgreePaymentPlan(Guid PlanId, DateOnly? AgreedOn, IReadOnlyList<InstalmentInput>? Instalments);

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
    public static Outcome Decide(PatientAccount account, AgreePaymentPlan command, DateOnly today, DateTimeOffset now)
    {
        var instalments = command.Instalments!.Select((i, n) => new Instalment(n + 1, i.DueOn!.Value, i.Amount!.Value)).ToList();
        var total = instalments.Sum(i => i.Amount);
        if (account.Plans.FirstOrDefault(p => p.PlanId == command.PlanId) is { } existing)
        {
            return existing.Instalments.SequenceEqual(instalments)
                ? Outcome.Replay(PaymentPlanRules.Views(account, today).First(v => v.PlanId == existing.PlanId))
                : Outcome.Conflict($"payment plan {command.PlanId} was already agreed with other content");
        }

        // Plans schedule what the patient owes, once: not more than is open beyond what earlier plans still collect.
        var unscheduled = account.Open().Patient - account.UnappliedCredit - PaymentPlanRules.Scheduled(account, today);
        if (total > unscheduled)
        {
            return Outcome.Reject("instalments",
                $"add up to {Fmt.Money(total)}, more than the {Fmt.Money(Math.Max(unscheduled, 0))} the patient owes beyond plans already agreed");
        }

        var agreed = new PaymentPlanAgreed(account.Id, command.PlanId, instalments, total, command.AgreedOn ?? today, now);
        var after = Snapshot.Copy(account);
        after.Apply(agreed);
        return Outcome.Created($"/api/patients/{account.Id}/payment-plans", PaymentPlanRules.Views(after, today).First(v => v.PlanId == agreed.PlanId))
            .Append(account.Id, agreed);
    }

    [WolverinePost("/api/patients/{patientId}/payment-plans"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        AgreePaymentPlan command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account,
        ClinicCalendar calendar, TimeProvider clock)
    {
        var outcome = Decide(account, command, calendar.Today(), clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
