package dev.parley.cluster;

import dev.parley.broker.LocalBroker;

class LocalBrokerTest implements BrokerContract {
    @Override
    public Node newNode() {
        LocalBroker broker = new LocalBroker();
        Events events = new Events();
        broker.start(events);
        return new Node(broker, events);
    }
}
