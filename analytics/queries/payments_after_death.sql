-- Payments after death: the case list of benefit payments for months after the month of death
-- recorded by the household registry, one row per person, the largest amounts first — the
-- payments to stop and recover. person_key is re-identified, when a case is opened, with
-- `lakehouse reidentify PERSON_KEY --reason ...` (a steward's audited action).
-- Role: steward (gold.deceased_with_active_payments is for stewards and investigators;
--       analysts and auditors are refused).
-- Run:  LAKEHOUSE_ROLE=steward lakehouse query --file analytics/queries/payments_after_death.sql
SELECT
    person_key,
    death_month,
    count(*)                         AS payments,
    count(DISTINCT benefit_type)     AS benefit_types,
    min(payment_month)               AS first_month_paid,
    max(payment_month)               AS last_month_paid,
    sum(amount)                      AS total_amount
FROM gold.deceased_with_active_payments
GROUP BY person_key, death_month
ORDER BY total_amount DESC, person_key
