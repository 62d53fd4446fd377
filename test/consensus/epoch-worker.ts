// Worker for the determinism test: runs the epoch on the input it is given and posts the result back.
import { parentPort, workerData } from 'node:worker_threads'
import { runEpoch, type EpochOptions } from 'basedai/consensus'

const inputs = workerData as EpochOptions[]
parentPort?.postMessage(inputs.map((input) => runEpoch(input)))
