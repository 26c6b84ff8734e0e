using Microsoft.AspNetCore.Authorization;

namespace KetamineBilling.Infrastructure;

public static class Roles
{
    public const string BillingAdmin = nameof(BillingAdmin);
    public const string Finance = nameof(Finance);
    public const string Employer = nameof(Employer);

    /// <summary>Manages user accounts (create, disable, roles, passwords) and reads the PHI access audit; sees no money.</summary>
    public const string Administrator = nameof(Administrator);

    public static readonly IReadOnlyList<string> All = [BillingAdmin, Finance, Employer, Administrator];
}

public static class UserClaims
{
    /// <summary>The user's id: what event metadata records as who caused a change.</summary>
    public const string UserId = "sub";
    public const string Email = "email";
    public const string Role = "role";

    /// <summary>An Employer user is bound to exactly one employer.</summary>
    public const string EmployerId = "employer_id";

    /// <summary>The account's security stamp when the cookie or token was issued: a stale one is refused (revocation).</summary>
    public const string SecurityStamp = "stamp";

    /// <summary>
    /// The one clinic (tenant id) the cookie or token acts for: Wolverine opens every session of the request for it
    /// (ADR 0016). A user of several clinics switches by signing in to another.
    /// </summary>
    public const string Clinic = "clinic";
}

public static class AuthSchemes
{
    /// <summary>Opaque bearer tokens for API clients (protected by the persisted Data Protection keys).</summary>
    public const string Bearer = "Bearer";

    /// <summary>The UI's sign-in cookie. API policies never accept it, so no cross-site request can reach the API.</summary>
    public const string Cookie = "Cookies";
}

/// <summary>
/// Every API endpoint names one of these; anything that names none falls to <see cref="Default"/>,
/// which still needs a signed-in user with a role (default deny).
/// </summary>
public static class Policies
{
    public const string BillingAdmin = "api:billing-admin";
    public const string Staff = "api:staff";
    public const string FinanceOrBilling = "api:finance";
    public const string Employer = "api:employer";
    public const string AnyRole = "api:any-role";
    public const string Administrator = "api:administrator";

    /// <summary>An employer's own figures: BillingAdmin and Finance for every employer, an Employer user for its own (checked in the endpoint).</summary>
    public const string EmployerFigures = "api:employer-figures";

    /// <summary>Documents that identify an employer's members (statements): BillingAdmin, and an Employer user for its own.</summary>
    public const string EmployerDocuments = "api:employer-documents";

    /// <summary>The books' closed months and their history, no amounts: Finance and BillingAdmin, and the Administrator who reopens a month.</summary>
    public const string BooksPeriods = "api:books-periods";

    public static void Register(AuthorizationOptions options)
    {
        options.AddPolicy(BillingAdmin, Api(Roles.BillingAdmin));
        options.AddPolicy(Staff, Api(Roles.BillingAdmin, Roles.Finance));
        options.AddPolicy(FinanceOrBilling, Api(Roles.Finance, Roles.BillingAdmin));
        options.AddPolicy(Employer, p =>
        {
            Api(Roles.Employer)(p);
            p.RequireClaim(UserClaims.EmployerId);
        });
        options.AddPolicy(AnyRole, Api([.. Roles.All]));
        options.AddPolicy(Administrator, Api(Roles.Administrator));
        options.AddPolicy(EmployerFigures, Api(Roles.BillingAdmin, Roles.Finance, Roles.Employer));
        options.AddPolicy(EmployerDocuments, Api(Roles.BillingAdmin, Roles.Employer));
        options.AddPolicy(BooksPeriods, Api(Roles.Finance, Roles.BillingAdmin, Roles.Administrator));
        options.FallbackPolicy = Default;
    }

    public static readonly AuthorizationPolicy Default = new AuthorizationPolicyBuilder(AuthSchemes.Bearer)
        .RequireAuthenticatedUser()
        .RequireRole(Roles.All)
        .Build();

    private static Action<AuthorizationPolicyBuilder> Api(params string[] roles) => policy => policy
        .AddAuthenticationSchemes(AuthSchemes.Bearer)
        .RequireAuthenticatedUser()
        .RequireRole(roles);
}
