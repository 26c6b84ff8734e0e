namespace KetamineBilling.Tests.Infrastructure;

public static class As
{
    public const string Billing = "billing@test.local";
    public const string Finance = "finance@test.local";
    public const string EmployerA = "employer-a@test.local";
    public const string EmployerB = "employer-b@test.local";
    public const string NoRole = "norole@test.local";
    public const string Admin = "admin@test.local";
}
