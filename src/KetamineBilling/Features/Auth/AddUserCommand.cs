using JasperFx.CommandLine;
using KetamineBilling.Features.Accounts;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Auth;

public class AddUserInput : NetCoreInput
{
    [Description("The account's email, used to sign in")]
    public string Email { get; set; } = "";

    [Description("BillingAdmin, Finance, Employer or Administrator; several separated by commas (BillingAdmin,Administrator)")]
    public string Role { get; set; } = "";

    [Description("For an Employer account: the one employer id it may see"), FlagAlias("employer")]
    public Guid? EmployerFlag { get; set; }

    [Description("The name shown in the UI"), FlagAlias("name")]
    public string? NameFlag { get; set; }

    [Description("The clinics (codes, separated by commas) the account works for; an Employer account exactly one"), FlagAlias("clinics")]
    public string ClinicsFlag { get; set; } = "";
}

/// <summary>
/// Creates a local account outside Development (where no demo accounts exist): the first administrator of
/// a new installation. The password comes from KB_USER_PASSWORD or the first line of standard input, never
/// from the command line, which shell history and process lists would keep.
/// </summary>
[Description("Creates a local account: add-user EMAIL ROLE[,ROLE] --clinics CODE[,CODE] [--employer ID] [--name NAME]; password from KB_USER_PASSWORD or stdin", Name = "add-user")]
public class AddUserCommand : JasperFxAsyncCommand<AddUserInput>
{
    public override async Task<bool> Execute(AddUserInput input)
    {
        var problems = new ValidationProblems();
        var roles = UserAdministration.ValidRoles(problems, input.Role.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), input.EmployerFlag);
        var password = Environment.GetEnvironmentVariable("KB_USER_PASSWORD") ?? Console.In.ReadLine() ?? "";
        // The same rules as every other place a password is set (PasswordRules): 12 characters, not the email, not common.
        PasswordRules.Validate(problems, "password", password, input.Email);
        var clinicCodes = input.ClinicsFlag.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(c => c.ToLowerInvariant()).Distinct().ToList();
        if (clinicCodes.Count == 0) problems.Add("clinics", "name at least one clinic (--clinics CODE); add-clinic onboards one");
        if (input.EmployerFlag is not null && clinicCodes.Count > 1) problems.Add("clinics", "an Employer account works for exactly one clinic");
        if (problems.Any)
        {
            foreach (var (field, rules) in problems.Errors)
            {
                Console.Error.WriteLine($"{field}: {string.Join("; ", rules)}");
            }

            return false;
        }

        using var host = input.BuildHost();
        var accounts = host.Services.GetRequiredService<UserAccounts>();
        var clinics = host.Services.GetRequiredService<Clinics>();
        foreach (var code in clinicCodes)
        {
            if (await clinics.FindAsync(code, CancellationToken.None) is null)
            {
                Console.Error.WriteLine($"clinics: '{code}' is not a clinic (add-clinic onboards one)");
                return false;
            }
        }

        if (await accounts.FindAsync(input.Email, CancellationToken.None) is not null)
        {
            Console.Error.WriteLine($"an account for {input.Email} exists already");
            return false;
        }

        var user = await accounts.EnsureAsync(input.Email, input.NameFlag ?? input.Email, password, roles,
            input.EmployerFlag, clinicCodes, DateTimeOffset.UtcNow, CancellationToken.None);
        Console.WriteLine($"created {user.Email} ({string.Join(",", roles)}) for {string.Join(",", clinicCodes)} with id {user.Id}");
        return true;
    }
}
