using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Studies;

namespace KetamineBilling.Features.Demo;

/// <summary>A demo stream of another area (an employer, a grant, a study), built in step with the patients' stories.</summary>
public sealed class DemoStream<T>(Guid id, T state, Action<T, object> apply)
{
    public Guid Id { get; } = id;
    public T State { get; } = state;
    public List<object> Events { get; } = [];
    public List<DateTimeOffset> Timestamps { get; } = [];

    public void Add(object e, DateTimeOffset at)
    {
        apply(State, e);
        Events.Add(e);
        Timestamps.Add(at);
    }
}

public sealed class DemoThirdParties
{
    public DemoThirdParties(DateTimeOffset at, DateOnly today)
    {
        Acme = Employer(new CreateEmployer("Acme Logistics", "accounts.payable@acme-logistics.example", null, 80m, ["96365"], 2000m, 12, false, 30,
            DemoIds.AcmeEmployer), at);
        Contoso = Employer(new CreateEmployer("Contoso Foods", "benefits@contoso-foods.example", 300m, null, [], null, 10, false, 30, DemoIds.ContosoEmployer), at);
        var awarded = (GrantAwarded)AwardGrantEndpoint.Decide(null, new AwardGrant(DemoIds.Grant, DemoIds.Patient(6), "Ketamine Access Fund", 600m, 6,
            "fee-sharing", null, null, 50m, 50m, today.AddDays(-120), today.AddDays(60)), true, at).EventsFor(DemoIds.Grant).Single();
        Grant = new DemoStream<Grant>(DemoIds.Grant, Features.Grants.Grant.Create(awarded), (g, e) =>
        {
            switch (e)
            {
                case GrantApplied x: g.Apply(x); break;
                case GrantFundsReceived x: g.Apply(x); break;
            }
        });
        Grant.Events.Add(awarded);
        Grant.Timestamps.Add(at);
        var registered = (StudyRegistered)StudyEndpoints.Decide(null, new RegisterStudy(DemoIds.Study, "Meridian Neurosciences", "MN-KET-204", 400m), at)
            .EventsFor(DemoIds.Study).Single();
        Study = new DemoStream<Study>(DemoIds.Study, Features.Studies.Study.Create(registered), (s, e) =>
        {
            switch (e)
            {
                case StudyPatientEnrolled x: s.Apply(x); break;
                case StudySessionCovered x: s.Apply(x); break;
                case SponsorPaymentReceived x: s.Apply(x); break;
            }
        });
        Study.Events.Add(registered);
        Study.Timestamps.Add(at);
    }

    public DemoStream<EmployerAgreement> Acme { get; }
    public DemoStream<EmployerAgreement> Contoso { get; }
    public DemoStream<Grant> Grant { get; }
    public DemoStream<Study> Study { get; }

    private static DemoStream<EmployerAgreement> Employer(CreateEmployer command, DateTimeOffset at)
    {
        var id = command.EmployerId!.Value;
        var registered = (EmployerRegistered)CreateEmployerEndpoint.Decide(null, command, id, at).EventsFor(id).Single();
        var stream = new DemoStream<EmployerAgreement>(id, EmployerAgreement.Create(registered), (a, e) =>
        {
            switch (e)
            {
                case EmployeeEnrolled x: a.Apply(x); break;
                case DirectPayCommitted x: a.Apply(x); break;
                case EmployerInvoiceIssued x: a.Apply(x); break;
                case EmployerPaymentReceived x: a.Apply(x); break;
            }
        });
        stream.Events.Add(registered);
        stream.Timestamps.Add(at);
        return stream;
    }
}
