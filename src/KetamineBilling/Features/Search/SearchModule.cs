namespace KetamineBilling.Features.Search;

public static class SearchModule
{
    /// <summary>
    /// The global search writes nothing and owns no documents: it reads the patient directory (indexed on its search
    /// name), the accounts' coverages, the claims (unique index on the control number) and the remittances through the
    /// registrations of their own areas. Nothing to register: the module is here so the area is listed like the others.
    /// </summary>
    public static void AddSearch(this WebApplicationBuilder builder)
    {
    }
}
