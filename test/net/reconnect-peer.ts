/**
 * Fixture of test/net/reconnect.test.ts (not a test itself): serves a basic actor at /root/brain-1 over libp2p on
 * the given port with the persistent identity of the given data dir, prints its address, runs until killed.
 * Usage: node test/net/reconnect-peer.ts <dataDir> <port>
 */
import { serveActors } from '../../actors/index.ts'
import { ActorSystem } from '../../supervisor/index.ts'
import { Libp2pTransport, loadOrCreateIdentity } from '../../net/libp2p-transport.ts'

const [dataDir, port] = process.argv.slice(2)
if (!dataDir || !port) throw new Error('usage: reconnect-peer.ts <dataDir> <port>')
const sys = await ActorSystem.start({
  kind: 'supervisor',
  id: 'root',
  children: [{ kind: 'actor', id: 'brain-1', behaviour: { module: new URL('../../actors/basic.ts', import.meta.url).href } }],
})
const t = await Libp2pTransport.create({ listen: [`/ip4/127.0.0.1/tcp/${port}`], privateKey: await loadOrCreateIdentity(dataDir) })
serveActors(t, (a) => sys.lookup(a))
process.stdout.write(`${t.addresses()[0]}\n`)
