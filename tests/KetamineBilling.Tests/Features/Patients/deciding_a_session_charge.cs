using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Providers;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using Wolverine.Http;

namespace KetamineBilling.Tests.Features.Patients;

/// <summary>The pure decision behind POST /api/patients/{id}/sessions, without a database.</summary>
public class deciding_a_session_charge
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 15, 0, 0, TimeSpan.Zero);
    private static readonly Provider Provider = new() { Id = "dr-a", Name = "A", Npi = "1234567893" };

    private static PatientAccount Patient() => new() { Id = PatientId };

    private static readonly Guid PatientId = Guid.NewGuid();

    private static FeeSchedule Schedule()
    {
        var schedule = new FeeSchedule { Id = FeeSchedule.StreamId };
        var projection = new FeeScheduleProjection();
        projection.Apply(new FeePriceSet(schedule.Id, "96365", "IV infusion", 450.00m, new DateOnly(2026, 1, 1), Now), schedule);
        projection.Apply(new FeePriceSet(schedule.Id, "96365", "IV infusion", 475.50m, new DateOnly(2026, 5, 1), Now), schedule);
        projection.Apply(new FeePriceSet(schedule.Id, "J3490", "Ketamine", 60.00m, new DateOnly(2026, 1, 1), Now), schedule);
        return schedule;
    }

    /// <summary>The charge a decision appended to the patient's stream.</summary>
    private static SessionDelivered Charged(Outcome outcome) =>
        Assert.IsType<SessionDelivered>(Assert.IsType<Outcome.Accepted>(outcome).EventsFor(PatientId)[0]);

    private static DeliverSession Command(DateOnly on, params (string, int)[] lines) =>
        new(Guid.NewGuid(), on, 45, "main", lines.Select(l => new SessionLineInput(l.Item1, l.Item2)).ToList(), ["F33.2"], "dr-a");

    [Fact]
    public void each_line_takes_the_price_in_force_on_the_date_of_service()
    {
        var april = Charged(DeliverSessionEndpoint.Decide(Patient(), Command(new DateOnly(2026, 4, 30), ("96365", 1), ("J3490", 3)), Schedule(), null, Provider, Now));
        var may = Charged(DeliverSessionEndpoint.Decide(Patient(), Command(new DateOnly(2026, 5, 1), ("96365", 1)), Schedule(), null, Provider, Now));

        Assert.Equal(630.00m, april.TotalCharge);
        Assert.Equal(180.00m, april.Lines[1].Amount);
        Assert.Equal(475.50m, may.TotalCharge);
    }

    [Fact]
    public void a_code_without_a_price_on_that_date_is_unprocessable_naming_the_line()
    {
        var outcome = DeliverSessionEndpoint.Decide(Patient(), Command(new DateOnly(2025, 12, 31), ("J3490", 1), ("96365", 1)), Schedule(), null, Provider, Now);

        var rejected = Assert.IsType<Outcome.Rejected>(outcome);
        Assert.Equal(StatusCodes.Status422UnprocessableEntity, rejected.Status);
        Assert.Equal(["lines[0].code", "lines[1].code"], rejected.Errors.Keys.Order());
    }

    [Fact]
    public void the_same_session_with_the_same_content_is_a_replay_and_with_other_content_a_conflict()
    {
        var command = Command(new DateOnly(2026, 5, 2), ("96365", 1));
        var charged = Charged(DeliverSessionEndpoint.Decide(Patient(), command, Schedule(), null, Provider, Now));
        var patient = Patient();
        patient.Apply(charged);

        Assert.IsType<Outcome.Replayed>(DeliverSessionEndpoint.Decide(patient, command, Schedule(), null, Provider, Now.AddHours(1)));
        Assert.Equal(StatusCodes.Status409Conflict,
            Assert.IsType<Outcome.Rejected>(DeliverSessionEndpoint.Decide(patient, command with { DurationMinutes = 60 }, Schedule(), null, Provider, Now)).Status);
    }

    [Fact]
    public void a_session_id_owned_by_another_patient_is_a_conflict()
    {
        var command = Command(new DateOnly(2026, 5, 2), ("96365", 1));

        var outcome = DeliverSessionEndpoint.Decide(Patient(), command, Schedule(), new SessionOwner(command.SessionId, Guid.NewGuid()), Provider, Now);

        Assert.Equal(StatusCodes.Status409Conflict, Assert.IsType<Outcome.Rejected>(outcome).Status);
    }

    [Fact]
    public void validation_names_every_broken_field()
    {
        var calendar = new ClinicCalendar(new FakeTimeProvider(Now), TimeZoneInfo.Utc);
        var command = new DeliverSession(Guid.Empty, new DateOnly(2026, 6, 2), 0, "", [new SessionLineInput("96365", 0)], ["depression"]);

        var problem = Assert.IsType<HttpValidationProblemDetails>(DeliverSessionEndpoint.Validate(command, calendar));

        Assert.Equal(400, problem.Status);
        Assert.Equal(
            ["deliveredOn", "diagnosisCodes[0]", "durationMinutes", "lines[0].units", "locationId", "providerId", "sessionId"],
            problem.Errors.Keys.Order());
    }

    [Fact]
    public void a_valid_command_passes_validation()
    {
        var calendar = new ClinicCalendar(new FakeTimeProvider(Now), TimeZoneInfo.Utc);

        Assert.Same(WolverineContinue.NoProblems, DeliverSessionEndpoint.Validate(Command(new DateOnly(2026, 6, 1), ("96365", 1)), calendar));
    }

    [Fact]
    public void today_is_the_clinics_date_not_utcs()
    {
        // 02:00 UTC on 1 June is still 31 May in Chicago: a session "today" there is dated 31 May.
        var calendar = new ClinicCalendar(new FakeTimeProvider(new DateTimeOffset(2026, 6, 1, 2, 0, 0, TimeSpan.Zero)),
            TimeZoneInfo.FindSystemTimeZoneById("America/Chicago"));

        Assert.Equal(new DateOnly(2026, 5, 31), calendar.Today());
    }
}
