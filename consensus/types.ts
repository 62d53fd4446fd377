/**
 * Public types of the consensus epoch. `EpochInput` / `EpochOutput` are the stable API of `epoch()`; the extended
 * `EpochOptions` / `EpochDetail` of `runEpoch()` add the seed's rule variants, Credits and the β(t)·Accuracy term.
 */

/** Input of {@link epoch}: one Brain's metagraph at the epoch boundary. */
export interface EpochInput {
  /** n entries, ≥ 0, any scale. Only permitted validators' stake counts; it is normalised to sum 1. */
  readonly stake: readonly number[]
  /** n×n, weights[i][j] = weight uid i sets on uid j, ≥ 0, any scale per row. */
  readonly weights: readonly (readonly number[])[]
  /** n flags: who holds a validator permit (decided by the ledger before the epoch). */
  readonly validatorPermit: readonly boolean[]
  /** n×n previous bonds (all 0 at first; afterwards the `bonds` this function returned last epoch). */
  readonly bonds: readonly (readonly number[])[]
  /** Consensus majority κ in (0, 1], default 0.5. */
  readonly kappa?: number
  /** Bonds moving average in millionths, integer in [0, 10^6], default 900 000 (α = 1 − 900000/10^6 = 0.1). */
  readonly bondsMovingAverage?: number
}

/** Output of {@link epoch}: plain numbers converted exactly from the Q40 fixed-point state. */
export interface EpochOutput {
  /** C_j, the stake-weighted median weight on j (Yuma) or σ(ρ(T_j − κ)) (sigmoid rule). */
  readonly consensus: number[]
  /** R_j = Σ_i S_i·W̄_ij before normalisation. */
  readonly rank: number[]
  /** T_j = R_j / P_j (Yuma) or Σ_i S_i·[W_ij > 0] (sigmoid rule). */
  readonly trust: number[]
  /** I = R / ΣR (sums to 1, or all 0). */
  readonly incentive: number[]
  /** Tv_i = Σ_j W̄_ij. */
  readonly validatorTrust: number[]
  /** D_i = Σ_j B_ij·I_j, normalised (sums to 1, or all 0). */
  readonly dividends: number[]
  /** B of step 6: the EMA of column-normalised bonds, columns normalised. Feed it back as next epoch's `bonds`. */
  readonly bonds: number[][]
}

/** Which consensus rule the epoch applies. `'yuma'` (the default) is subtensor's; `'sigmoid'` is the seed's §3.4.1. */
export type ConsensusRule = 'yuma' | 'sigmoid'

/**
 * How accumulated Credits confer influence: a bounded multiplier on a validator's bond accrual,
 * m_i = 1 + maxBoost · c_i / (c_i + halfCredits), so m_i ∈ [1, 1 + maxBoost).
 */
export interface CreditInfluence {
  /** maxBoost in millionths, integer in [0, 10^6]. */
  readonly maxBoostPpm: number
  /** Credits (Q40 units, {@link CREDIT_ONE} = one credit) at which half the boost is reached; > 0. */
  readonly halfCredits: bigint
}

/** The forecaster term of I(W, S, TFT, t) = R·C + β(t)·Accuracy(TFT). */
export interface TftTerm {
  /** Block height t (blocks since genesis) that sets β(t). */
  readonly block: number
  /** The forecaster's predicted share of each peer (any non-negative scale; normalised to a distribution). */
  readonly forecast: readonly number[]
  /** The forecaster's measured accuracy in [0, 1] (see `forecastAccuracy`). */
  readonly accuracy: number
}

/** Input of {@link runEpoch}: {@link EpochInput} plus the seed's extensions (all optional). */
export interface EpochOptions extends EpochInput {
  /** Consensus rule, default `'yuma'`. */
  readonly rule?: ConsensusRule
  /** Sigmoid steepness ρ for the `'sigmoid'` rule, default 10. */
  readonly rho?: number
  /** Credits accumulated before this epoch (Q40 units per uid), default all 0. */
  readonly credits?: readonly bigint[]
  /**
   * How Credits act on bonds. Default: {@link DEFAULT_CREDIT_INFLUENCE} when `credits` is given, none otherwise;
   * `null` turns the influence off while still accruing Credits.
   */
  readonly creditInfluence?: CreditInfluence | null
  /** The β(t)·Accuracy(TFT) term; absent means β = 0 (pure consensus incentive). */
  readonly tft?: TftTerm
}

/** Output of {@link runEpoch}: {@link EpochOutput} plus the extensions' results. */
export interface EpochDetail extends EpochOutput {
  readonly rule: ConsensusRule
  /** Incentive from consensus alone (before the β(t)·Accuracy term). Equals `incentive` when β = 0. */
  readonly consensusIncentive: number[]
  /** S: permitted stake normalised to sum 1 (others 0). */
  readonly stakeShare: number[]
  /** ΔCredits_i = S_i · Σ_j W̄_ij in Q40 units (see docs/CONSENSUS.md). */
  readonly creditsDelta: bigint[]
  /** Credits after this epoch: the input credits plus creditsDelta. */
  readonly credits: bigint[]
  /** The bond multiplier m_i each validator's Credits gave it this epoch (1 when influence is off). */
  readonly bondMultiplier: number[]
  /** β(t) applied to the forecaster term (0 without `tft`). */
  readonly beta: number
  /**
   * True when no weight survived consensus (ΣR = 0): the Brain's emission then falls back to stake (step 9); pass
   * `stake` to `splitEmission`, which applies the fallback.
   */
  readonly fallbackToStake: boolean
}
