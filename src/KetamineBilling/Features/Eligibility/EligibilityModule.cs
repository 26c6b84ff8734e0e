using Marten;

namespace KetamineBilling.Features.Eligibility;

public static class EligibilityModule
{
    public static void AddEligibility(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten(opts =>
    {
        opts.Schema.For<EligibilityInquiryBatch>().Identity(b => b.Id).UniqueIndex(b => b.RequestId);
        opts.Schema.For<EligibilityInquiry>();
        opts.Schema.For<EligibilityAnswerFile>().Index(f => f.ReceivedAt);
    });
}
