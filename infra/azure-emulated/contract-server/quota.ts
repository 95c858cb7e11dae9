// Cores per instance type, and OutOfQuota worded as Azure words it. Azure ML reserves 20%
// more instances than asked for, to upgrade in place, so the cores needed are
// ceil(instances × 1.2) × cores per instance (learn.microsoft.com, "virtual machine quota
// allocation for deployment").
export const INSTANCE_CORES: Record<string, number> = {
  Standard_DS2_v2: 2,
  Standard_DS3_v2: 4,
  Standard_DS4_v2: 8,
  Standard_DS5_v2: 16,
  Standard_F2s_v2: 2,
  Standard_F4s_v2: 4,
  Standard_F8s_v2: 8,
  Standard_F16s_v2: 16,
  Standard_F32s_v2: 32,
  Standard_F48s_v2: 48,
  Standard_F64s_v2: 64,
  Standard_F72s_v2: 72,
  Standard_E2s_v3: 2,
  Standard_E4s_v3: 4,
  Standard_E8s_v3: 8,
  Standard_E16s_v3: 16,
  Standard_E32s_v3: 32,
  Standard_E48s_v3: 48,
  Standard_E64s_v3: 64,
  Standard_NC6s_v3: 6,
  Standard_NC12s_v3: 12,
  Standard_NC24s_v3: 24,
  Standard_NC4as_T4_v3: 4,
  Standard_NC8as_T4_v3: 8,
  Standard_NC16as_T4_v3: 16,
  Standard_NC64as_T4_v3: 64,
  Standard_NC24ads_A100_v4: 24,
  Standard_NC48ads_A100_v4: 48,
  Standard_NC96ads_A100_v4: 96,
};

export function coresNeeded(instanceType: string, instances: number): number {
  return Math.ceil(instances * 1.2) * (INSTANCE_CORES[instanceType] ?? 0);
}

export function outOfQuotaMessage(instanceType: string, subscriptionId: string, usage: number, limit: number, needed: number): string {
  return `Not enough quota available for ${instanceType} in SubscriptionId ${subscriptionId}. Current usage/limit: ${usage}/${limit}. Additional needed: ${needed} Please see troubleshooting guide, available here: https://aka.ms/oe-tsg#error-outofquota`;
}
