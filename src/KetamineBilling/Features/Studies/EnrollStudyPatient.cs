using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Studies;

public record EnrollStudyPatient(Guid PatientId, string? SubjectId);

public static class EnrollStudyPatientEndpoint
{
    public static ProblemDetails Validate(EnrollStudyPatient command)
    {
        var problems = new ValidationProblems();
        if (command.PatientId == Guid.Empty) problems.Add("patientId", "is required");
        problems.RequireText("subjectId", command.SubjectId, 40);
        return problems.ToProblemDetails();
    }

    /// <summary>A patient is a subject once; the same subject id again is a replay, another one a conflict.</summary>
    public static Outcome Decide(Study study, EnrollStudyPatient command, DateTimeOffset now)
    {
        if (study.Subjects.FirstOrDefault(s => s.PatientId == command.PatientId) is { } existing)
        {
            return existing.SubjectId == command.SubjectId!.Trim()
                ? Outcome.Replay(existing)
                : Outcome.Conflict($"the patient is enrolled as subject {existing.SubjectId}");
        }

        var enrolled = new StudyPatientEnrolled(study.Id, command.PatientId, command.SubjectId!.Trim(), now);
        return Outcome.Created($"/api/studies/{study.Id}/enrollments/{command.PatientId}", enrolled).Append(study.Id, enrolled);
    }

    [WolverinePost("/api/studies/{studyId}/enrollments"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Studies")]
    public static (IResult, Events) Post(
        EnrollStudyPatient command, [WriteAggregate("studyId", OnMissing = OnMissing.ProblemDetailsWith404)] Study study, TimeProvider clock)
    {
        var outcome = Decide(study, command, clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(study.Id)]);
    }
}
